-- review: records by editorial status and provenance
with

occupations as (
    select * from occupations
),

final as (
    select
        status,
        provenance,
        count(*) as records,
        count(*) filter (where is_verified) as verified
    from occupations
    group by status, provenance
    order by status, provenance
)

select * from final
