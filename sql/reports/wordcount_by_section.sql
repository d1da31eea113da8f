-- wordcount: words per canonical section over the records that have it
with

occupation_sections as (
    select * from occupation_sections
),

final as (
    select
        canonical_position,
        canonical_heading as section,
        min_words,
        count(*) filter (where is_present) as records,
        sum(word_count)::bigint as words,
        round(avg(word_count) filter (where is_present), 1) as mean_words,
        median(word_count) filter (where is_present) as median_words,
        quantile_cont(word_count, 0.9) filter (where is_present) as p90_words
    from occupation_sections
    group by canonical_position, canonical_heading, min_words
    order by canonical_position
)

select * from final
