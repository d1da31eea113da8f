-- coverage: the relationship graph in numbers
with

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

figures as (
    select 1 as position, 'relationships stated' as measure, count(*) as value from relationships
    union all
    select 2, 'edges (target exists, distinct)', count(*) from graph_edges
    union all
    select 3, 'graph edges (authored to authored)', count(*) filter (where is_graph_edge)
    from graph_edges
    union all
    select 4, 'dangling references', count(*) from dangling_references
    union all
    select 5, 'distinct dangling targets', count(distinct target_slug) from dangling_references
    union all
    select 6, 'graph nodes (authored records)', count(*) from graph_nodes
    union all
    select 7, 'orphan nodes', count(*) filter (where is_orphan) from graph_nodes
    union all
    select 8, 'records whose stated backlinks match', count(*) filter (where is_consistent)
    from backlinks
    union all
    select 9, 'records whose stated backlinks differ', count(*) filter (where not is_consistent)
    from backlinks
),

final as (
    select measure, value
    from figures
    order by position
)

select * from final
