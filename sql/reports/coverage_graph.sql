-- coverage: the relationship graph in numbers
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
),

graph_nodes as (
    select * from graph_nodes
),

dangling_references as (
    select * from dangling_references
),

backlinks as (
    select * from backlinks
),

relationships as (
    select * from stg_relationships
),

final as (
    select 'relationships stated' as measure, count(*) as value from relationships
    union all
    select 'edges (target exists, distinct)', count(*) from graph_edges
    union all
    select 'graph edges (authored to authored)', count(*) filter (where is_graph_edge)
    from graph_edges
    union all
    select 'dangling references', count(*) from dangling_references
    union all
    select 'distinct dangling targets', count(distinct target_slug) from dangling_references
    union all
    select 'graph nodes (authored records)', count(*) from graph_nodes
    union all
    select 'orphan nodes', count(*) filter (where is_orphan) from graph_nodes
    union all
    select 'records whose stated backlinks match', count(*) filter (where is_consistent)
    from backlinks
    union all
    select 'records whose stated backlinks differ', count(*) filter (where not is_consistent)
    from backlinks
)

select * from final
