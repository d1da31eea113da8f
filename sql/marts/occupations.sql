-- one row per record with the derived fields every report uses (metrics.md, "per record")
with

occupations as (
    select * from stg_occupations
),

sections as (
    select * from stg_sections
),

occupation_sections as (
    select * from occupation_sections
),

reviewers as (
    select * from stg_reviewers
),

record_words as (
    select
        slug,
        -- bigint: DuckDB sums integers as hugeint, which clients read as decimal(38, 0)
        sum(word_count)::bigint as word_count,
        sum(stated_word_count)::bigint as stated_section_word_count
    from sections
    group by slug
),

required_met as (
    select
        slug,
        count(*) filter (where is_required) as required_sections,
        count(*) filter (where is_required and is_present and meets_minimum) as required_met
    from occupation_sections
    group by slug
),

reviewer_counts as (
    select
        slug,
        count(*) as reviewer_count
    from reviewers
    group by slug
),

derived as (
    select
        occupations.*,
        coalesce(occupations.kind, 'occupation') as kind_label,
        coalesce(occupations.provenance, 'unknown') as provenance_label,
        occupations.source_origin is not null as is_federated,
        coalesce(record_words.word_count, 0) as word_count,
        coalesce(reviewer_counts.reviewer_count, 0) as reviewer_count,
        required_met.required_sections,
        required_met.required_met
    from occupations
    left join record_words on record_words.slug = occupations.slug
    left join reviewer_counts on reviewer_counts.slug = occupations.slug
    left join required_met on required_met.slug = occupations.slug
),

final as (
    select
        slug,
        title,
        category,
        kind_label as kind,
        kind as stated_kind,
        status,
        provenance_label as provenance,
        difficulty,
        summary,
        is_federated,
        is_synthetic,
        word_count,
        greatest(1, floor(word_count / 225 + 0.5))::integer as reading_time_minutes,
        case
            when is_federated then 1.0
            when required_sections = 0 then 0.0
            else round(required_met / required_sections, 3)
        end as completeness,
        reviewer_count,
        reviewer_count > 0 or last_reviewed_on is not null as is_verified,
        provenance_label in ('ai-generated', 'ai-assisted') as is_ai_drafted,
        provenance_label in ('ai-generated', 'ai-assisted')
            and not (reviewer_count > 0 or last_reviewed_on is not null) as is_unverified_ai_draft,
        created_on,
        updated_on,
        last_reviewed_on,
        coalesce(last_reviewed_on, updated_on) as last_attended_on,
        coalesce(git_created, strftime(created_on, '%Y-%m-%d')) as first_published,
        coalesce(git_updated, strftime(updated_on, '%Y-%m-%d')) as last_published,
        section_count,
        unknown_field_count,
        stated_word_count,
        stated_completeness,
        source_file,
        content_hash
    from derived
)

select * from final
