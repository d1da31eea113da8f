-- coverage: distribution of completeness over authored records
with

occupations as (
    select * from occupations
    where not is_federated
),

final as (
    select
        completeness,
        count(*) as records,
        round(count(*) / sum(count(*)) over (), 3) as share
    from occupations
    group by completeness
    order by completeness desc
)

select * from final
