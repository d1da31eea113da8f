-- distinct typed edges (source, target, type) whose target record exists (metrics.md, "Graph")
with

relationships as (
    select * from stg_relationships
),

occupations as (
    select * from occupations
),

valid_relationships as (
    select * from relationships
    where relationship_type in (
        'related', 'specialization', 'prerequisite', 'adjacent', 'collaboration', 'progression'
    )
),

edges as (
    select distinct
        valid_relationships.slug as source_slug,
        valid_relationships.target_slug,
        valid_relationships.relationship_type
    from valid_relationships
    inner join occupations as targets on targets.slug = valid_relationships.target_slug
),

final as (
    select
        edges.*,
        not sources.is_federated and not targets.is_federated as is_graph_edge
    from edges
    inner join occupations as sources on sources.slug = edges.source_slug
    inner join occupations as targets on targets.slug = edges.target_slug
)

select * from final
