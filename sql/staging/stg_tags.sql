-- staging over raw.tags: tags of a record.
with

source as (
    select * from raw.tags
),

renamed as (
    select
        slug,
        position,
        tag
    from source
)

select * from renamed
