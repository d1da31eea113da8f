-- every change of every run: records added, changed (content), removed, and status transitions
with

occupations as (
    select * from occupations
),

previous as (
    select * from stg_previous_occupations
),

earlier_changes as (
    select * from stg_previous_entity_changes
),

run_params as (
    select * from stg_run_params
),

compared as (
    select
        coalesce(occupations.slug, previous.slug) as slug,
        case
            when previous.slug is null then 'added'
            when occupations.slug is null then 'removed'
            when occupations.content_hash <> previous.content_hash then 'changed'
        end as change,
        previous.status as from_status,
        occupations.status as to_status,
        coalesce(occupations.updated_on, previous.updated_on) as updated_on
    from occupations
    full outer join previous on previous.slug = occupations.slug
),

this_run as (
    select
        run_params.run_id,
        run_params.started_at as published_at,
        compared.slug,
        compared.change,
        compared.from_status,
        compared.to_status,
        compared.updated_on
    from compared
    cross join run_params
    where compared.change is not null
        or compared.from_status is distinct from compared.to_status
),

final as (
    select * from earlier_changes
    union all
    select * from this_run
)

select * from final
