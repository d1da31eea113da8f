-- staging over raw.relationships: typed relationships (`metadata.related`) as stated, dangling targets included.
with

source as (
    select * from raw.relationships
),

renamed as (
    select
        slug,
        position,
        target_slug,
        relationship_type,
        note
    from source
)

select * from renamed
