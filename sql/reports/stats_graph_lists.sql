-- stats: the centrality, interdisciplinary, orphanPages and danglingReferences lists of the
-- site's stats.json, one row per entry (the entry as JSON), in the site's order
with

graph_nodes as (
    select * from graph_nodes
),

graph_betweenness as (
    select * from graph_betweenness
),

dangling_references as (
    select * from dangling_references
),

scored as (
    select
        graph_nodes.slug,
        graph_nodes.title,
        graph_nodes.degree,
        round(coalesce(graph_betweenness.betweenness, 0), 3) as betweenness
    from graph_nodes
    left join graph_betweenness on graph_betweenness.slug = graph_nodes.slug
),

final as (
    select
        'centrality' as list_name,
        row_number() over (order by degree desc, betweenness desc, slug) as position,
        {'slug': slug, 'title': title, 'degree': degree, 'betweenness': betweenness}::json as item
    from scored
    qualify position <= 25
    union all
    select
        'interdisciplinary',
        row_number() over (order by neighbour_categories desc, degree desc, slug) as position,
        {'slug': slug, 'title': title, 'categories': neighbour_categories, 'degree': degree}::json
    from graph_nodes
    where degree > 0
    qualify position <= 25
    union all
    select
        'orphanPages',
        row_number() over (order by slug),
        {'slug': slug, 'title': title}::json
    from graph_nodes
    where is_orphan
    union all
    select
        'danglingReferences',
        row_number() over (order by source_slug, dangling_references.position),
        {'from': source_slug, 'to': target_slug, 'type': relationship_type}::json
    from dangling_references
)

select * from final
order by list_name, position
