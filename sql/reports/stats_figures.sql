-- stats: the figures of the site's stats.json that are no total, count or list: generatedFor,
-- and quality's requiredSections and unverified (one row; columns named as its fields)
with

run_params as (
    select * from stg_run_params
),

canonical_sections as (
    select * from stg_canonical_sections
),

occupations as (
    select * from occupations
),

final as (
    select
        (select strftime(as_of, '%Y-%m-%d') from run_params) as "generatedFor",
        (select count(*) from canonical_sections where is_required) as "requiredSections",
        (select count(*) from occupations where not is_verified) as unverified
)

select * from final
