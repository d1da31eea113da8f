-- staging over raw.occupations: one row per loaded record: scalar metadata, stated computed fields, git scalars, lineage.
with

source as (
    select * from raw.occupations
),

renamed as (
    select
        slug,
        title,
        metadata_title,
        metadata_slug,
        category,
        kind,
        status,
        provenance,
        difficulty,
        summary,
        created_on,
        updated_on,
        last_reviewed_on,
        source_origin,
        source_url,
        source_repo,
        source_license,
        source_attribution,
        source_fetched_on,
        stated_word_count,
        stated_reading_time_minutes,
        stated_completeness,
        stated_is_verified,
        stated_is_ai_drafted,
        stated_is_unverified_ai_draft,
        stated_is_federated,
        git_created,
        git_updated,
        git_revisions,
        citation_apa,
        citation_bibtex,
        citation_text,
        section_count,
        unknown_field_count,
        is_synthetic,
        source_file,
        content_hash
    from source
)

select * from renamed
