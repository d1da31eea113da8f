-- review: unverified AI-drafted records, most linked-to first (the review queue)
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
),

inbound as (
    select
        target_slug as slug,
        count(distinct source_slug) as inbound_links
    from graph_edges
    group by target_slug
),

final as (
    select
        row_number() over (
            order by coalesce(inbound.inbound_links, 0) desc, occupations.slug
        ) as queue_position,
        occupations.slug,
        occupations.title,
        occupations.category,
        occupations.status,
        occupations.provenance,
        coalesce(inbound.inbound_links, 0) as inbound_links
    from occupations
    left join inbound on inbound.slug = occupations.slug
    where occupations.is_unverified_ai_draft
)

select * from final
order by queue_position
