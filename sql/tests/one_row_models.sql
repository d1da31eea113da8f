-- severity: error
-- the one-row models (the run's parameters; the health_dora, stats, stats_figures, stats_totals
-- and wordcount_totals reports) have exactly one row: each is an aggregate without group by, a
-- select without from, a cross join of one-row parts or the one row the run wrote, so any other
-- count means a broken build
with

counts as (
    select 'stg_run_params' as model, count(*) as row_count from stg_run_params
    union all select 'health_dora', count(*) from health_dora
    union all select 'stats', count(*) from stats
    union all select 'stats_figures', count(*) from stats_figures
    union all select 'stats_totals', count(*) from stats_totals
    union all select 'wordcount_totals', count(*) from wordcount_totals
),

final as (
    select model, row_count
    from counts
    where row_count <> 1
)

select * from final
