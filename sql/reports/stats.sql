-- stats: the SOUL Atlas site's stats.json, field for field (definitions in metrics.md)
with

occupations as (
    select * from occupations
),

graph_edges as (
    select * from graph_edges
    where is_graph_edge
),

graph_nodes as (
    select * from graph_nodes
),

graph_betweenness as (
    select * from graph_betweenness
),

dangling_references as (
    select * from dangling_references
),

record_contributors as (
    select * from record_contributors
),

tags as (
    select * from stg_tags
),

canonical_sections as (
    select * from stg_canonical_sections
),

run_params as (
    select * from stg_run_params
),

authored as (
    select * from occupations
    where not is_federated
),

tag_counts as (
    select tag, count(distinct slug) as count
    from tags
    group by tag
),

contributor_counts as (
    select name, count(distinct slug) as count
    from record_contributors
    group by name
),

totals as (
    select
        -- never NaN (not JSON): a share of no authored records is null; the density of a
        -- graph of one record is 0 (as networkx has it)
        count(*) as souls,
        count(*) filter (where is_federated) as federated,
        count(distinct kind) as kinds,
        (select count(*) from graph_edges) as edges,
        sum(word_count) as words,
        count(distinct category) as categories,
        (select count(*) from tag_counts) as tags,
        (select count(*) from contributor_counts) as contributors,
        round(sum(word_count) / nullif(count(*), 0))::bigint as "avgWords",
        round(avg(reading_time_minutes), 1) as "avgReadingTime",
        coalesce(
            round((select count(*) from graph_edges) / nullif(count(*) * (count(*) - 1) / 2, 0), 5),
            0
        ) as "graphDensity",
        round(
            (select count(*) from authored where status = 'stable')
            / nullif((select count(*) from authored), 0),
            3
        ) as "stableShare",
        count(*) filter (where is_verified) as verified,
        round(count(*) filter (where is_verified) / nullif((select count(*) from authored), 0), 3)
            as "verifiedShare"
    from occupations
),

counts_by as (
    select
        (select coalesce(json_group_object(category, n), '{}') from (
            select category, count(*) as n from occupations group by category
        )) as by_category,
        (select coalesce(json_group_object(kind, n), '{}') from (
            select kind, count(*) as n from occupations group by kind
        )) as by_kind,
        (select coalesce(json_group_object(status, n), '{}') from (
            select status, count(*) as n from occupations group by status
        )) as by_status,
        (select coalesce(json_group_object(provenance, n), '{}') from (
            select provenance, count(*) as n from occupations group by provenance
        )) as by_provenance,
        (select coalesce(json_group_object(difficulty, n), '{}') from (
            select difficulty, count(*) as n from occupations
            where difficulty is not null group by difficulty
        )) as by_difficulty
),

centrality as (
    select
        graph_nodes.slug,
        graph_nodes.title,
        graph_nodes.degree,
        round(coalesce(graph_betweenness.betweenness, 0), 3) as betweenness
    from graph_nodes
    left join graph_betweenness on graph_betweenness.slug = graph_nodes.slug
    order by graph_nodes.degree desc, betweenness desc, graph_nodes.slug
    limit 25
),

interdisciplinary as (
    select slug, title, neighbour_categories as categories, degree
    from graph_nodes
    where degree > 0
    order by categories desc, degree desc, slug
    limit 25
),

newest as (
    select slug, title, first_published as date
    from occupations
    order by first_published desc, slug
    limit 12
),

recently_updated as (
    select slug, title, last_published as date
    from occupations
    order by last_published desc, slug
    limit 12
),

largest as (
    select slug, title, word_count as words
    from occupations
    order by word_count desc, slug
    limit 12
),

smallest as (
    select slug, title, word_count as words
    from occupations
    order by word_count asc, slug
    limit 12
),

incomplete as (
    select slug, title, completeness
    from authored
    where completeness < 1
    order by completeness, slug
    limit 50
),

missing_metadata as (
    select
        slug,
        title,
        list_filter(
            [
                case when summary is null or summary = '' then 'summary' end,
                case when difficulty is null then 'difficulty' end,
                case when slug not in (select slug from tags) then 'tags' end
            ],
            lambda field: field is not null
        ) as missing
    from authored
),

stale_pages as (
    select authored.slug, authored.title, strftime(authored.last_attended_on, '%Y-%m-%d') as last
    from authored
    cross join run_params
    where authored.last_attended_on < run_params.as_of - interval 365 day
    order by authored.slug
    limit 50
),

final as (
    select
        {
            'generatedFor': (select strftime(as_of, '%Y-%m-%d') from run_params),
            'totals': (select totals from totals),
            'byCategory': by_category,
            'byKind': by_kind,
            'byStatus': by_status,
            'byProvenance': by_provenance,
            'byDifficulty': by_difficulty,
            'tags': (
                select coalesce(list({'tag': tag, 'count': count} order by count desc, tag), [])
                from tag_counts
            ),
            'contributors': (
                select coalesce(list({'name': name, 'count': count} order by count desc, name), [])
                from contributor_counts
            ),
            'centrality': (
                select coalesce(list(centrality order by degree desc, betweenness desc, slug), [])
                from centrality
            ),
            'interdisciplinary': (
                select coalesce(list(interdisciplinary order by categories desc, degree desc, slug), [])
                from interdisciplinary
            ),
            'newest': (select coalesce(list(newest order by date desc, slug), []) from newest),
            'recentlyUpdated': (
                select coalesce(list(recently_updated order by date desc, slug), [])
                from recently_updated
            ),
            'largest': (select coalesce(list(largest order by words desc, slug), []) from largest),
            'smallest': (select coalesce(list(smallest order by words, slug), []) from smallest),
            'quality': {
                'requiredSections': (select count(*) from canonical_sections where is_required),
                'unverified': (select count(*) from occupations where not is_verified),
                'incomplete': (
                    select coalesce(list(incomplete order by completeness, slug), [])
                    from incomplete
                ),
                'missingMetadata': (
                    select coalesce(list({'slug': slug, 'title': title, 'missing': missing}
                        order by slug), [])
                    from (select * from missing_metadata where len(missing) > 0 order by slug limit 50)
                ),
                'stalePages': (
                    select coalesce(list(stale_pages order by slug), []) from stale_pages
                ),
                'orphanPages': (
                    select coalesce(list({'slug': slug, 'title': title} order by slug), [])
                    from graph_nodes where is_orphan
                ),
                'danglingReferences': (
                    select coalesce(list(
                        {'from': source_slug, 'to': target_slug, 'type': relationship_type}
                        order by source_slug, position
                    ), [])
                    from dangling_references
                )
            }
        }::json as stats
    from counts_by
)

select * from final
