-- stats: the SOUL Atlas site's stats.json, field for field (definitions in metrics.md),
-- assembled from its parts, the stats_* reports
with

figures as (
    select * from stats_figures
),

totals as (
    select * from stats_totals
),

counts as (
    select * from stats_counts
),

entries as (
    select * from stats_count_lists
    union all
    select * from stats_graph_lists
    union all
    select * from stats_record_lists
    union all
    select * from stats_quality_lists
),

objects as (  -- facet -> {value: records}, in stats_counts' order
    select map_from_entries(list({'key': facet, 'value': counts})) as by_facet
    from (
        select facet, map_from_entries(list({'key': key, 'value': records} order by position)) as counts
        from counts
        group by facet
    )
),

lists as (  -- list name -> [entry], in order
    select map_from_entries(list({'key': list_name, 'value': items})) as by_name
    from (
        select list_name, list(item order by position) as items
        from entries
        group by list_name
    )
),

final as (
    select
        {
            'generatedFor': figures."generatedFor",
            'totals': (select totals from totals),
            'byCategory': coalesce(objects.by_facet['byCategory'], map()),
            'byKind': coalesce(objects.by_facet['byKind'], map()),
            'byStatus': coalesce(objects.by_facet['byStatus'], map()),
            'byProvenance': coalesce(objects.by_facet['byProvenance'], map()),
            'byDifficulty': coalesce(objects.by_facet['byDifficulty'], map()),
            'tags': coalesce(lists.by_name['tags'], []),
            'contributors': coalesce(lists.by_name['contributors'], []),
            'centrality': coalesce(lists.by_name['centrality'], []),
            'interdisciplinary': coalesce(lists.by_name['interdisciplinary'], []),
            'newest': coalesce(lists.by_name['newest'], []),
            'recentlyUpdated': coalesce(lists.by_name['recentlyUpdated'], []),
            'largest': coalesce(lists.by_name['largest'], []),
            'smallest': coalesce(lists.by_name['smallest'], []),
            'quality': {
                'requiredSections': figures."requiredSections",
                'unverified': figures.unverified,
                'incomplete': coalesce(lists.by_name['incomplete'], []),
                'missingMetadata': coalesce(lists.by_name['missingMetadata'], []),
                'stalePages': coalesce(lists.by_name['stalePages'], []),
                'orphanPages': coalesce(lists.by_name['orphanPages'], []),
                'danglingReferences': coalesce(lists.by_name['danglingReferences'], [])
            }
        }::json as stats
    from figures
    cross join objects
    cross join lists
)

select * from final
