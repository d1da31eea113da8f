-- coverage: per canonical section, share of authored records that have it, that meet its minimum,
-- and mean words where present
with

occupation_sections as (
    select * from occupation_sections
),

occupations as (
    select * from occupations
),

authored as (
    select occupation_sections.*
    from occupation_sections
    inner join occupations on occupations.slug = occupation_sections.slug
    where not occupations.is_federated
),

final as (
    select
        canonical_position,
        canonical_heading as section,
        is_required,
        min_words,
        count(*) as records,
        round(avg(is_present::integer), 3) as present_share,
        round(avg(meets_minimum::integer), 3) as meets_minimum_share,
        round(avg(word_count) filter (where is_present), 1) as mean_words
    from authored
    group by canonical_position, canonical_heading, is_required, min_words
    order by canonical_position
)

select * from final
