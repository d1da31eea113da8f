-- severity: error
-- every list table is keyed by (slug, position); each table is grouped on its own (one
-- grouping over all of them, keyed by the table's name as well, took twice as long: 1.3-1.5 s
-- against 0.66 s at 100k records)
with

duplicated_keys as (
    select 'sections' as table_name, slug, position, count(*) as occurrences
    from stg_sections
    group by slug, position
    having count(*) > 1
    union all
    select 'tags', slug, position, count(*)
    from stg_tags
    group by slug, position
    having count(*) > 1
    union all
    select 'aliases', slug, position, count(*)
    from stg_aliases
    group by slug, position
    having count(*) > 1
    union all
    select 'relationships', slug, position, count(*)
    from stg_relationships
    group by slug, position
    having count(*) > 1
    union all
    select 'specializations', slug, position, count(*)
    from stg_specializations
    group by slug, position
    having count(*) > 1
    union all
    select 'reference_sources', slug, position, count(*)
    from stg_reference_sources
    group by slug, position
    having count(*) > 1
    union all
    select 'reviewers', slug, position, count(*)
    from stg_reviewers
    group by slug, position
    having count(*) > 1
    union all
    select 'contributors', slug, position, count(*)
    from stg_contributors
    group by slug, position
    having count(*) > 1
    union all
    select 'git_authors', slug, position, count(*)
    from stg_git_authors
    group by slug, position
    having count(*) > 1
    union all
    select 'country_variants', slug, position, count(*)
    from stg_country_variants
    group by slug, position
    having count(*) > 1
    union all
    select 'stated_backlinks', slug, position, count(*)
    from stg_stated_backlinks
    group by slug, position
    having count(*) > 1
),

final as (
    select * from duplicated_keys
)

select * from final
