-- stats: the tags and contributors lists of the site's stats.json, one row per entry (the
-- entry as JSON), most records first
with

tags as (
    select * from stg_tags
),

record_contributors as (
    select * from record_contributors
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

final as (
    select
        'tags' as list_name,
        row_number() over (order by count desc, tag) as position,
        {'tag': tag, 'count': count}::json as item
    from tag_counts
    union all
    select
        'contributors',
        row_number() over (order by count desc, name),
        {'name': name, 'count': count}::json
    from contributor_counts
)

select * from final
order by list_name, position
