-- staging over raw.country_variants: how the role differs by country or jurisdiction.
with

source as (
    select * from raw.country_variants
),

renamed as (
    select
        slug,
        position,
        region,
        note
    from source
)

select * from renamed
