-- staging over raw.sections: one row per markdown section of a record, in document order.
with

source as (
    select * from raw.sections
),

renamed as (
    select
        slug,
        position,
        heading,
        anchor_id,
        markdown,
        stated_word_count,
        word_count,
        is_canonical
    from source
)

select * from renamed
