-- wordcount: canonical sections present but shorter than their minimum
with

occupation_sections as (
    select * from occupation_sections
),

occupations as (
    select * from occupations
),

final as (
    select
        occupation_sections.slug,
        occupations.title,
        occupation_sections.canonical_heading as section,
        occupation_sections.word_count,
        occupation_sections.min_words
    from occupation_sections
    inner join occupations on occupations.slug = occupation_sections.slug
    where occupation_sections.is_present and not occupation_sections.meets_minimum
)

select * from final
order by slug, section
