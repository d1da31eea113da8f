-- staging over raw.git_authors: commit authors from `git.authors`.
with

source as (
    select * from raw.git_authors
),

renamed as (
    select
        slug,
        position,
        name,
        commits
    from source
)

select * from renamed
