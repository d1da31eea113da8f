-- coverage: records by category and kind
with

occupations as (
    select * from occupations
),

final as (
    select
        category,
        kind,
        count(*) as records,
        count(*) filter (where is_synthetic) as synthetic_records
    from occupations
    group by category, kind
    order by category, kind
)

select * from final
