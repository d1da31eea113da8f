-- review: who reviews, how many records, and when last
with

reviewers as (
    select * from stg_reviewers
),

final as (
    select
        name,
        count(distinct slug) as records_reviewed,
        max(reviewed_on) as last_review_on,
        string_agg(distinct credential, '; ' order by credential) as credentials
    from reviewers
    group by name
    order by records_reviewed desc, name
)

select * from final
