-- wordcount: words per record by category (sum, mean, median, p90)
with

occupations as (
    select * from occupations
),

final as (
    select
        category,
        count(*) as records,
        sum(word_count)::bigint as words,
        round(avg(word_count), 1) as mean_words,
        median(word_count) as median_words,
        quantile_cont(word_count, 0.9) as p90_words
    from occupations
    group by category
    order by words desc, category
)

select * from final
