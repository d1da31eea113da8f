-- coverage: share of records with each optional metadata field filled in
with

occupations as (
    select * from occupations
),

tags as (
    select distinct slug from stg_tags
),

aliases as (
    select distinct slug from stg_aliases
),

reference_sources as (
    select distinct slug from stg_reference_sources
),

flags as (
    select
        occupations.slug,
        occupations.difficulty is not null as has_difficulty,
        tags.slug is not null as has_tags,
        occupations.summary is not null and occupations.summary <> '' as has_summary,
        aliases.slug is not null as has_aliases,
        reference_sources.slug is not null as has_sources
    from occupations
    left join tags on tags.slug = occupations.slug
    left join aliases on aliases.slug = occupations.slug
    left join reference_sources on reference_sources.slug = occupations.slug
),

counts as (
    unpivot (
        select
            count(*) filter (where has_difficulty) as difficulty,
            count(*) filter (where has_tags) as tags,
            count(*) filter (where has_summary) as summary,
            count(*) filter (where has_aliases) as aliases,
            count(*) filter (where has_sources) as sources
        from flags
    )
    on difficulty, tags, summary, aliases, sources
    into name field value records_with_field
),

final as (
    select
        field,
        records_with_field,
        round(records_with_field / (select count(*) from occupations), 3) as share
    from counts
)

select * from final
order by field
