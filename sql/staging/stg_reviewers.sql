-- staging over raw.reviewers: people who reviewed a record.
with

source as (
    select * from raw.reviewers
),

renamed as (
    select
        slug,
        position,
        name,
        credential,
        reviewed_on
    from source
)

select * from renamed
