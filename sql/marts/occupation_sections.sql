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

record_numbers as (
    -- records numbered once, so the steps below group and join on integers, not slugs
    -- (at 300k records, grouping 6M sections by slug and heading spilled to disk)
    select
        slug,
        row_number() over () as record_number
    from occupations
),

canonical_words as (
    -- a heading written twice counts once, with its longest occurrence
    select
        record_numbers.record_number,
        canonical_sections.canonical_position,
        max(sections.word_count) as word_count
    from sections
    inner join canonical_sections
        on canonical_sections.canonical_heading = sections.heading
    inner join record_numbers
        on record_numbers.slug = sections.slug
    group by record_numbers.record_number, canonical_sections.canonical_position
),

final as (
    select
        record_numbers.slug,
        canonical_sections.canonical_position,
        canonical_sections.canonical_heading,
        canonical_sections.is_required,
        canonical_sections.min_words,
        canonical_words.record_number is not null as is_present,
        coalesce(canonical_words.word_count, 0) as word_count,
        coalesce(canonical_words.word_count >= canonical_sections.min_words, false) as meets_minimum
    from record_numbers
    cross join canonical_sections
    left join canonical_words
        on canonical_words.record_number = record_numbers.record_number
        and canonical_words.canonical_position = canonical_sections.canonical_position
)

select * from final
