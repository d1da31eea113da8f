-- staging: parameters of the run that built this warehouse (one row)
with

source as (
    select * from raw.run_params
),

renamed as (
    select
        run_id,
        -- a session may override the reference date: set variable as_of = date '2026-06-26'
        coalesce(getvariable('as_of')::date, as_of) as as_of,
        coalesce(started_at, current_timestamp::timestamp) as started_at
    from source
)

select * from renamed
