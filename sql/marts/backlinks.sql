-- recomputed backlinks per record next to the ones the site stated
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
),

stated_backlinks as (
    select * from stg_stated_backlinks
),

recomputed as (
    select
        target_slug as slug,
        list(distinct source_slug order by source_slug) as backlinks
    from graph_edges
    group by target_slug
),

stated as (
    select
        slug,
        list(backlink_slug order by backlink_slug) as backlinks
    from stated_backlinks
    group by slug
),

final as (
    select
        occupations.slug,
        coalesce(recomputed.backlinks, []) as recomputed_backlinks,
        coalesce(stated.backlinks, []) as stated_backlinks,
        coalesce(recomputed.backlinks, []) = coalesce(stated.backlinks, []) as is_consistent
    from occupations
    left join recomputed on recomputed.slug = occupations.slug
    left join stated on stated.slug = occupations.slug
)

select * from final
