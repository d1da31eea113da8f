-- one row per record x canonical section: is it present (exact heading), how long, long enough?
with

occupations as (
    select * from stg_occupations
),

sections as (
    select * from stg_sections
),

canonical_sections as (
    select * from stg_canonical_sections
),

section_words as (
    -- a heading written twice counts once, with its longest occurrence
    select
        slug,
        heading,
        max(word_count) as word_count
    from sections
    group by slug, heading
),

final as (
    select
        occupations.slug,
        canonical_sections.canonical_position,
        canonical_sections.canonical_heading,
        canonical_sections.is_required,
        canonical_sections.min_words,
        section_words.heading is not null as is_present,
        coalesce(section_words.word_count, 0) as word_count,
        coalesce(section_words.word_count >= canonical_sections.min_words, false) as meets_minimum
    from occupations
    cross join canonical_sections
    left join section_words
        on section_words.slug = occupations.slug
        and section_words.heading = canonical_sections.canonical_heading
)

select * from final
