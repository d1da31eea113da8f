-- wordcount: sections whose stated word count differs from occupipe's recount
with

sections as (
    select * from stg_sections
),

final as (
    select
        slug,
        position,
        heading,
        stated_word_count,
        word_count,
        word_count - stated_word_count as difference
    from sections
    where stated_word_count <> word_count
)

select * from final
order by slug, position
