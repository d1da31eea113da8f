-- one row per run (published or not) and per rollback, this run included
with

earlier as (
    select * from stg_run_history
),

run_params as (
    select * from stg_run_params
),

occupations as (
    select * from occupations
),

this_run as (
    select
        run_params.run_id,
        'run' as event,
        run_params.started_at,
        null::timestamp as finished_at,
        'published' as status,
        null as reason,
        run_params.run_id as release_id,
        (select count(*) from occupations) as records,
        (select count(*) from quarantine) as quarantined,
        (
            select round(avg(is_verified::integer), 4) from occupations where not is_federated
        ) as verified_share,
        (
            select round(avg(completeness), 4) from occupations where not is_federated
        ) as mean_completeness,
        (select sum(word_count) from occupations)::bigint as words,
        null as from_release,
        null as to_release,
        false as is_rolled_back
    from run_params
),

final as (
    select * from earlier
    union all
    select * from this_run
)

select * from final
