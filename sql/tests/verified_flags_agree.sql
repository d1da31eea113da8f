-- severity: warn
-- the site's stated verified / aiDrafted flags agree with occupipe's derivation
with

occupations as (
    select * from occupations
),

stated as (
    select * from stg_occupations
),

final as (
    select
        occupations.slug,
        occupations.is_verified,
        stated.stated_is_verified,
        occupations.is_ai_drafted,
        stated.stated_is_ai_drafted
    from occupations
    inner join stated on stated.slug = occupations.slug
    where occupations.is_verified is distinct from coalesce(stated.stated_is_verified, occupations.is_verified)
        or occupations.is_ai_drafted
            is distinct from coalesce(stated.stated_is_ai_drafted, occupations.is_ai_drafted)
)

select * from final
