-- severity: error
-- occupation_sections holds every record once per canonical section: with slugs and canonical
-- positions unique (tested), any other row count means the left join duplicated or lost rows
with

actual as (
    select count(*) as row_count from occupation_sections
),

expected as (
    select
        (select count(*) from occupations)
        * (select count(*) from stg_canonical_sections) as row_count
),

final as (
    select
        actual.row_count as actual_rows,
        expected.row_count as expected_rows
    from actual
    cross join expected
    where actual.row_count <> expected.row_count
)

select * from final
