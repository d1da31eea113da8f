-- distinct people per record: metadata.contributors plus git.authors[].name
with

contributors as (
    select * from stg_contributors
),

git_authors as (
    select * from stg_git_authors
),

names as (
    select slug, name from contributors
    union
    select slug, name from git_authors
),

final as (
    select distinct
        slug,
        name
    from names
)

select * from final
