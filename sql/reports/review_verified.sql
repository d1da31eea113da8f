-- review: verified records and their share of authored records, overall and by provenance
with

occupations as (
    select * from occupations
),

authored as (
    select * from occupations
    where not is_federated
),

final as (
    select
        'all' as provenance,
        (select count(*) from occupations) as records,
        (select count(*) from occupations where is_verified) as verified,
        round((select count(*) from occupations where is_verified) / nullif(count(*), 0), 3)
            as verified_share
    from authored
    union all
    select
        provenance,
        count(*),
        count(*) filter (where is_verified),
        round(count(*) filter (where is_verified) / nullif(count(*), 0), 3)
    from authored
    group by provenance
)

select * from final
order by provenance <> 'all', provenance
