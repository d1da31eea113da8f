-- staging over raw.run_history: earlier runs and rollbacks, from the warehouse's history log
with

source as (
    select * from raw.run_history
),

renamed as (
    select
        run_id,
        event,
        started_at,
        finished_at,
        status,
        reason,
        release_id,
        records,
        quarantined,
        verified_share,
        mean_completeness,
        words,
        from_release,
        to_release,
        is_rolled_back
    from source
)

select * from renamed
