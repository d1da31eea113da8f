-- staging over raw.specializations: narrower variants of a role.
with

source as (
    select * from raw.specializations
),

renamed as (
    select
        slug,
        position,
        specialization
    from source
)

select * from renamed
