-- staging over raw.previous_occupations: the records of the release this one replaces
with

source as (
    select * from raw.previous_occupations
),

renamed as (
    select
        slug,
        content_hash,
        status,
        updated_on
    from source
)

select * from renamed
