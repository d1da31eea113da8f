-- stats: the totals of the site's stats.json (one row; columns named as its fields, metrics.md)
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
    where is_graph_edge
),

tags as (
    select * from stg_tags
),

record_contributors as (
    select * from record_contributors
),

final as (
    select
        -- never NaN (not JSON): a share of no authored records is null; the density of a
        -- graph of one record is 0 (as networkx has it)
        count(*) as souls,
        count(*) filter (where is_federated) as federated,
        count(distinct kind) as kinds,
        (select count(*) from graph_edges) as edges,
        sum(word_count)::bigint as words,
        count(distinct category) as categories,
        (select count(distinct tag) from tags) as tags,
        (select count(distinct name) from record_contributors) as contributors,
        round(sum(word_count) / nullif(count(*), 0))::bigint as "avgWords",
        round(avg(reading_time_minutes), 1) as "avgReadingTime",
        coalesce(
            round((select count(*) from graph_edges) / nullif(count(*) * (count(*) - 1) / 2, 0), 5),
            0
        ) as "graphDensity",
        round(
            count(*) filter (where not is_federated and status = 'stable')
            / nullif(count(*) filter (where not is_federated), 0),
            3
        ) as "stableShare",
        count(*) filter (where is_verified) as verified,
        round(
            count(*) filter (where is_verified) / nullif(count(*) filter (where not is_federated), 0),
            3
        ) as "verifiedShare"
    from occupations
)

select * from final
