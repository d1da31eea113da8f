-- staging over raw.stated_backlinks: `computed.backlinks` as the site stated them.
with

source as (
    select * from raw.stated_backlinks
),

renamed as (
    select
        slug,
        position,
        backlink_slug
    from source
)

select * from renamed
