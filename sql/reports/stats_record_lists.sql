-- stats: the newest, recentlyUpdated, largest and smallest lists of the site's stats.json
-- (12 records each), one row per entry (the entry as JSON), in the site's order
with

occupations as (
    select * from occupations
),

wordcount_extremes as (
    select * from wordcount_extremes
),

ranked as (
    select
        slug,
        title,
        first_published,
        last_published,
        row_number() over (order by first_published desc, slug) as newest,
        row_number() over (order by last_published desc, slug) as recently_updated
    from occupations
),

final as (
    select
        'newest' as list_name,
        newest as position,
        {'slug': slug, 'title': title, 'date': first_published}::json as item
    from ranked
    where newest <= 12
    union all
    select
        'recentlyUpdated',
        recently_updated,
        {'slug': slug, 'title': title, 'date': last_published}::json
    from ranked
    where recently_updated <= 12
    union all
    -- the 12 largest and smallest records are the wordcount report's
    select side, rank, {'slug': slug, 'title': title, 'words': word_count}::json
    from wordcount_extremes
)

select * from final
order by list_name, position
