-- severity: error
-- every list table is keyed by (slug, position)
with

keys as (
    select 'sections' as table_name, slug, position from stg_sections
    union all select 'tags', slug, position from stg_tags
    union all select 'aliases', slug, position from stg_aliases
    union all select 'relationships', slug, position from stg_relationships
    union all select 'specializations', slug, position from stg_specializations
    union all select 'reference_sources', slug, position from stg_reference_sources
    union all select 'reviewers', slug, position from stg_reviewers
    union all select 'contributors', slug, position from stg_contributors
    union all select 'git_authors', slug, position from stg_git_authors
    union all select 'country_variants', slug, position from stg_country_variants
    union all select 'stated_backlinks', slug, position from stg_stated_backlinks
),

final as (
    select table_name, slug, position, count(*) as occurrences
    from keys
    group by table_name, slug, position
    having count(*) > 1
)

select * from final
