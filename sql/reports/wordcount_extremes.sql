-- wordcount: the 12 largest and 12 smallest records
with

occupations as (
    select * from occupations
),

ranked as (
    select
        slug,
        title,
        word_count,
        row_number() over (order by word_count desc, slug) as rank_largest,
        row_number() over (order by word_count asc, slug) as rank_smallest
    from occupations
),

final as (
    select 'largest' as side, rank_largest as rank, slug, title, word_count
    from ranked where rank_largest <= 12
    union all
    select 'smallest', rank_smallest, slug, title, word_count
    from ranked where rank_smallest <= 12
)

select * from final
order by side, rank
