-- staging: the canonical section spec (sections.json), one row per section
with

source as (
    select * from raw.canonical_sections
),

renamed as (
    select
        position as canonical_position,
        heading as canonical_heading,
        is_required,
        min_words
    from source
)

select * from renamed
