-- staging over raw.contributors: names in `metadata.contributors`.
with

source as (
    select * from raw.contributors
),

renamed as (
    select
        slug,
        position,
        name
    from source
)

select * from renamed
