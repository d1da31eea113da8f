-- pipeline health in DORA terms: deploy frequency, change failure rate, time to restore,
-- lead time (record metadata.updated -> first published)
with

run_history as (
    select * from run_history
),

entity_changes as (
    select * from entity_changes
),

events as (
    -- a failure: a run that failed a gate, or a published release that was rolled back;
    -- a restore: a good publish, or a rollback
    select
        run_history.run_id,
        run_history.started_at,
        coalesce(run_history.finished_at, run_history.started_at) as happened_at,
        run_history.event,
        run_history.event = 'run' and (
            run_history.status = 'failed'
            -- the run that published a release later rolled back (not the runs that kept it)
            or (run_history.status = 'published' and run_history.is_rolled_back)
        ) as is_failure,
        (
            run_history.event = 'run'
            and run_history.status = 'published'
            and not run_history.is_rolled_back
        ) or run_history.event = 'rollback' as is_restore
    from run_history
),

restores as (
    -- each failure is restored by the next published run or rollback after it
    select
        failures.happened_at as failed_at,
        min(later.happened_at) as restored_at
    from events as failures
    left join events as later
        on later.is_restore and later.happened_at > failures.happened_at
    where failures.is_failure
    group by failures.run_id, failures.happened_at
),

lead_times as (
    select date_diff('day', updated_on, published_at::date) as lead_time_days
    from entity_changes
    where change in ('added', 'changed') and updated_on is not null
),

final as (
    select
        (select count(*) from events where event = 'run') as runs,
        round(
            (select count(*) from events where event = 'run')
            / greatest(1, date_diff('day', min(started_at), max(started_at)) / 7.0),
            2
        ) as runs_per_week,
        round(
            (select avg(is_failure::integer) from events where event = 'run'), 3
        ) as change_failure_rate,
        (
            select round(avg(date_diff('second', failed_at, restored_at)) / 60, 1)
            from restores
        ) as mean_minutes_to_restore,
        (select count(*) from restores where restored_at is null) as unrestored_failures,
        (select median(lead_time_days) from lead_times) as median_lead_time_days
    from events
)

select * from final
