"""Flatten validated records into the normalized tables (Arrow, one table per entity)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from pipelines.extract import Extracted
from pipelines.tables import TABLES, Table
from pipelines.wordcount import count_words

Rows = dict[str, list[dict[str, Any]]]


def normalize_records(
    items: Sequence[Extracted], canonical_headings: frozenset[str], with_html: bool = False
) -> dict[str, pa.Table]:
    """Turn a batch of validated records into one Arrow table per normalized table."""
    rows: Rows = {t.name: [] for t in TABLES}
    for item in items:
        add_record_rows(rows, item, canonical_headings, with_html)
    return {t.name: build_table(t, rows[t.name]) for t in TABLES}


def build_table(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table with the declared schema (columns in declared order)."""
    return pa.Table.from_pylist(rows, schema=table.schema)


def add_record_rows(
    rows: Rows, item: Extracted, canonical_headings: frozenset[str], with_html: bool
) -> None:
    """Append one record's rows to every table."""
    record, meta = item.record, item.record.metadata
    slug = record.slug
    rows["occupations"].append(occupation_row(item))
    for position, section in enumerate(record.sections):
        rows["sections"].append(
            {
                "slug": slug,
                "position": position,
                "heading": section.heading,
                "anchor_id": section.id,
                "markdown": section.markdown,
                "stated_word_count": section.wordCount,
                "word_count": count_words(section.markdown),
                "is_canonical": section.heading in canonical_headings,
                "html": section.html if with_html else None,
            }
        )
    add_list_rows(rows["tags"], slug, ({"tag": t} for t in meta.tags))
    add_list_rows(rows["aliases"], slug, ({"alias": a} for a in meta.aliases))
    add_list_rows(
        rows["relationships"],
        slug,
        (
            {"target_slug": r.slug, "relationship_type": r.type, "note": r.note}
            for r in meta.related
        ),
    )
    add_list_rows(
        rows["specializations"], slug, ({"specialization": s} for s in meta.specializations)
    )
    add_list_rows(
        rows["reference_sources"],
        slug,
        ({"title": s.title, "url": s.url, "source_kind": s.kind} for s in meta.sources),
    )
    add_list_rows(
        rows["reviewers"],
        slug,
        (
            {"name": r.name, "credential": r.credential, "reviewed_on": r.date}
            for r in meta.reviewers
        ),
    )
    add_list_rows(rows["contributors"], slug, ({"name": c} for c in meta.contributors))
    add_list_rows(
        rows["git_authors"],
        slug,
        ({"name": a.name, "commits": a.commits} for a in record.git.authors),
    )
    add_list_rows(
        rows["country_variants"],
        slug,
        ({"region": v.region, "note": v.note} for v in meta.country_variants),
    )
    add_list_rows(
        rows["stated_backlinks"], slug, ({"backlink_slug": b} for b in record.computed.backlinks)
    )


def add_list_rows(target: list[dict[str, Any]], slug: str, items: Iterable[dict[str, Any]]) -> None:
    """Append list items as rows keyed by (slug, position)."""
    for position, item in enumerate(items):
        target.append({"slug": slug, "position": position, **item})


def occupation_row(item: Extracted) -> dict[str, Any]:
    """The scalar part of a record as one row of `occupations`."""
    record, meta, computed = item.record, item.record.metadata, item.record.computed
    source, git, citation = meta.source, record.git, record.citation
    return {
        "slug": record.slug,
        "title": record.title,
        "metadata_title": meta.title,
        "metadata_slug": meta.slug,
        "category": meta.category,
        "kind": meta.kind,
        "status": meta.status,
        "provenance": meta.provenance,
        "difficulty": meta.difficulty,
        "summary": meta.summary,
        "created_on": meta.created,
        "updated_on": meta.updated,
        "last_reviewed_on": meta.last_reviewed,
        "source_origin": source.origin if source else None,
        "source_url": source.url if source else None,
        "source_repo": source.repo if source else None,
        "source_license": source.license if source else None,
        "source_attribution": source.attribution if source else None,
        "source_fetched_on": source.fetched if source else None,
        "stated_word_count": computed.wordCount,
        "stated_reading_time_minutes": computed.readingTimeMinutes,
        "stated_completeness": computed.completeness,
        "stated_is_verified": computed.verified,
        "stated_is_ai_drafted": computed.aiDrafted,
        "stated_is_unverified_ai_draft": computed.unverifiedAiDraft,
        "stated_is_federated": computed.federated,
        "git_created": git.created,
        "git_updated": git.updated,
        "git_revisions": git.revisions,
        "citation_apa": citation.apa if citation else None,
        "citation_bibtex": citation.bibtex if citation else None,
        "citation_text": citation.text if citation else None,
        "section_count": len(record.sections),
        "unknown_field_count": len(item.unknown_fields),
        "is_synthetic": record.synthetic,
        "source_file": item.source_file,
        "content_hash": item.content_hash,
    }
