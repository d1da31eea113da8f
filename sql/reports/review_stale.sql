-- review: authored records last reviewed (or, if never, updated) over 365 days before as_of
with

occupations as (
    select * from occupations
),

run_params as (
    select * from stg_run_params
),

final as (
    select
        occupations.slug,
        occupations.title,
        occupations.status,
        occupations.last_attended_on,
        occupations.last_reviewed_on is not null as was_reviewed,
        run_params.as_of,
        run_params.as_of - occupations.last_attended_on as days_since
    from occupations
    cross join run_params
    where not occupations.is_federated
        and occupations.last_attended_on < run_params.as_of - interval 365 day
)

select * from final
order by slug
