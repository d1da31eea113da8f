-- every relationship (valid type) whose target record does not exist, each occurrence kept
with

relationships as (
    select * from stg_relationships
),

occupations as (
    select * from occupations
),

final as (
    select
        relationships.slug as source_slug,
        relationships.position,
        relationships.target_slug,
        relationships.relationship_type
    from relationships
    left join occupations on occupations.slug = relationships.target_slug
    where occupations.slug is null
        and relationships.relationship_type in (
            'related', 'specialization', 'prerequisite', 'adjacent', 'collaboration', 'progression'
        )
)

select * from final
