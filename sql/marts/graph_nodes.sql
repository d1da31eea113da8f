-- authored records as graph nodes: degree, distinct neighbour categories, orphan flag
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
    where is_graph_edge
),

endpoints as (
    select source_slug as slug, target_slug as neighbour_slug from graph_edges
    union all
    select target_slug as slug, source_slug as neighbour_slug from graph_edges
),

node_stats as (
    select
        endpoints.slug,
        count(*) as degree,
        count(distinct neighbours.category) as neighbour_categories
    from endpoints
    inner join occupations as neighbours on neighbours.slug = endpoints.neighbour_slug
    group by endpoints.slug
),

final as (
    select
        occupations.slug,
        occupations.title,
        occupations.category,
        coalesce(node_stats.degree, 0) as degree,
        coalesce(node_stats.neighbour_categories, 0) as neighbour_categories,
        node_stats.slug is null as is_orphan
    from occupations
    left join node_stats on node_stats.slug = occupations.slug
    where not occupations.is_federated
)

select * from final
