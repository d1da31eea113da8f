-- trend: records, verified share, completeness and words, run after run
with

run_history as (
    select * from run_history
),

final as (
    select
        started_at,
        run_id,
        event,
        status,
        records,
        quarantined,
        verified_share,
        mean_completeness,
        words,
        -- a release against the release published before it; other rows have no change
        case when status = 'published' then
            records - lag(records) over (
                partition by status = 'published' order by started_at
            )
        end as records_change
    from run_history
)

select * from final
order by started_at
