-- staging over raw.previous_entity_changes: changes recorded by earlier releases
with

source as (
    select * from raw.previous_entity_changes
),

renamed as (
    select
        run_id,
        published_at,
        slug,
        change,
        from_status,
        to_status,
        updated_on
    from source
)

select * from renamed
