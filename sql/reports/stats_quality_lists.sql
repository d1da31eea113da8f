-- stats: the incomplete, missingMetadata and stalePages lists of the site's stats.json
-- (authored records, 50 at most each), one row per entry (the entry as JSON), in the site's order
with

occupations as (
    select * from occupations
),

tags as (
    select * from stg_tags
),

run_params as (
    select * from stg_run_params
),

authored as (
    select * from occupations
    where not is_federated
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

final as (
    select
        'incomplete' as list_name,
        row_number() over (order by completeness, slug) as position,
        {'slug': slug, 'title': title, 'completeness': completeness}::json as item
    from authored
    where completeness < 1
    qualify position <= 50
    union all
    select
        'missingMetadata',
        row_number() over (order by slug) as position,
        {'slug': slug, 'title': title, 'missing': missing}::json
    from missing_metadata
    where len(missing) > 0
    qualify position <= 50
    union all
    select
        'stalePages',
        row_number() over (order by authored.slug) as position,
        {
            'slug': authored.slug,
            'title': authored.title,
            'last': strftime(authored.last_attended_on, '%Y-%m-%d')
        }::json
    from authored
    cross join run_params
    where authored.last_attended_on < run_params.as_of - interval 365 day
    qualify position <= 50
)

select * from final
order by list_name, position
