-- staging over raw.aliases: alternative names of a record.
with

source as (
    select * from raw.aliases
),

renamed as (
    select
        slug,
        position,
        alias
    from source
)

select * from renamed
