-- staging over raw.reference_sources: references a record draws on (`metadata.sources`).
with

source as (
    select * from raw.reference_sources
),

renamed as (
    select
        slug,
        position,
        title,
        url,
        source_kind
    from source
)

select * from renamed
