-- wordcount: total and mean words over all records
with

occupations as (
    select * from occupations
),

final as (
    select
        count(*) as records,
        sum(word_count)::bigint as words,
        round(avg(word_count), 1) as mean_words,
        median(word_count) as median_words,
        round(avg(reading_time_minutes), 1) as mean_reading_time_minutes
    from occupations
)

select * from final
