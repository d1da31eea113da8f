-- stats: the counts by category, kind, status, provenance and difficulty of the site's
-- stats.json, one row per facet and value
with

occupations as (
    select * from occupations
),

facets as (
    select 'byCategory' as facet, category as key from occupations
    union all
    select 'byKind', kind from occupations
    union all
    select 'byStatus', status from occupations
    union all
    select 'byProvenance', provenance from occupations
    union all
    select 'byDifficulty', difficulty from occupations
    where difficulty is not null
),

counts as (
    select facet, key, count(*) as records
    from facets
    group by facet, key
),

final as (
    select
        facet,
        key,
        records,
        -- the site orders byCategory and byKind by count, the other facets as their values
        -- first occur in its records: every facet here by count, then value
        row_number() over (partition by facet order by records desc, key) as position
    from counts
)

select * from final
order by facet, position
