"""Flatten validated records into the normalized tables (Arrow, one table per entity).

Rows are gathered column by column (a list per column) and turned into Arrow arrays once per
batch: faster than building a dict per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from occupipe.contract.wordcount import count_words
from occupipe.ingest.documents import AnyRecord, Extracted
from occupipe.ingest.tables import TABLES, Table

Columns = dict[str, list[Any]]  # column name -> values, for one table
Batch = dict[str, Columns]  # table name -> its columns

# internal: the document a row came from (to drop duplicates later); not in published tables
INPUT_COLUMN = "_input"
INPUT_FIELD = pa.field(INPUT_COLUMN, pa.int64())


def new_batch() -> Batch:
    """Empty columns for every table, the document id column included."""
    return {t.name: {name: [] for name in (*t.column_names, INPUT_COLUMN)} for t in TABLES}


def build_tables(batch: Batch) -> dict[str, pa.Table]:
    """One Arrow table per normalized table from a batch's gathered columns, each row tagged
    with its document id (`INPUT_COLUMN`, after the declared columns)."""
    return {t.name: build_table(t, batch[t.name]) for t in TABLES}


def build_table(table: Table, columns: Columns) -> pa.Table:
    """An Arrow table with the declared schema (columns in declared order) and the ids."""
    arrays = [pa.array(columns[c.name], c.type) for c in table.columns]
    arrays.append(pa.array(columns[INPUT_COLUMN], INPUT_FIELD.type))
    return pa.Table.from_arrays(arrays, schema=table.schema.append(INPUT_FIELD))


def add_record_rows(
    batch: Batch,
    document: int,
    item: Extracted,
    canonical_headings: frozenset[str],
    with_html: bool,
) -> None:
    """Append one record's rows to every table."""
    record = item.record
    row = (record.slug, document)
    add_occupation_row(batch["occupations"], document, item)
    sections = record.sections
    add_items(batch["sections"], row, sections, heading="heading", anchor_id="id")
    columns = batch["sections"]
    columns["markdown"].extend([s.markdown for s in sections])
    columns["stated_word_count"].extend([s.wordCount for s in sections])
    columns["word_count"].extend([count_words(s.markdown) for s in sections])
    columns["is_canonical"].extend([s.heading in canonical_headings for s in sections])
    columns["html"].extend([s.html if with_html else None for s in sections])
    for name, items in child_items(record).items():
        add_items(batch[name], row, items, **ITEM_COLUMNS[name])


# each child table: the column each item attribute fills (None: the item itself)
ITEM_COLUMNS: dict[str, dict[str, str | None]] = {
    "tags": {"tag": None},
    "aliases": {"alias": None},
    "relationships": {"target_slug": "slug", "relationship_type": "type", "note": "note"},
    "specializations": {"specialization": None},
    "reference_sources": {"title": "title", "url": "url", "source_kind": "kind"},
    "reviewers": {"name": "name", "credential": "credential", "reviewed_on": "date"},
    "contributors": {"name": None},
    "git_authors": {"name": "name", "commits": "commits"},
    "country_variants": {"region": "region", "note": "note"},
    "stated_backlinks": {"backlink_slug": None},
}


def child_items(record: AnyRecord) -> dict[str, Sequence[Any]]:
    """A record's lists, by the child table their items become rows of."""
    meta = record.metadata
    return {
        "tags": meta.tags,
        "aliases": meta.aliases,
        "relationships": meta.related,
        "specializations": meta.specializations,
        "reference_sources": meta.sources,
        "reviewers": meta.reviewers,
        "contributors": meta.contributors,
        "git_authors": record.git.authors,
        "country_variants": meta.country_variants,
        "stated_backlinks": record.computed.backlinks,
    }


def add_items(
    columns: Columns, row: tuple[str, int], items: Sequence[Any], **fields: str | None
) -> None:
    """Append list items as rows keyed by (slug, position); `row` is the record's slug and
    document id.

    Each keyword names a column and the item attribute that fills it (None: the item itself).
    """
    if not items:
        return
    slug, document = row
    columns["slug"].extend([slug] * len(items))
    columns[INPUT_COLUMN].extend([document] * len(items))
    columns["position"].extend(range(len(items)))
    for column, attribute in fields.items():
        values = items if attribute is None else [getattr(i, attribute) for i in items]
        columns[column].extend(values)


def add_occupation_row(columns: Columns, document: int, item: Extracted) -> None:
    """Append the scalar part of a record as one row of `occupations`."""
    for name, value in occupation_row(item).items():
        columns[name].append(value)
    columns[INPUT_COLUMN].append(document)


# columns filled from a record's optional parts: column -> the part's attribute
SOURCE_COLUMNS = {
    "source_origin": "origin",
    "source_url": "url",
    "source_repo": "repo",
    "source_license": "license",
    "source_attribution": "attribution",
    "source_fetched_on": "fetched",
}
CITATION_COLUMNS = {"citation_apa": "apa", "citation_bibtex": "bibtex", "citation_text": "text"}


def columns_of(part: object | None, columns: dict[str, str]) -> dict[str, Any]:
    """The columns an optional part of a record fills; all null when the record has none."""
    if part is None:
        return dict.fromkeys(columns)
    return {column: getattr(part, attribute) for column, attribute in columns.items()}


def occupation_row(item: Extracted) -> dict[str, Any]:
    """The scalar part of a record as one row of `occupations`."""
    record, meta, computed = item.record, item.record.metadata, item.record.computed
    git = record.git
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
        **columns_of(meta.source, SOURCE_COLUMNS),
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
        **columns_of(record.citation, CITATION_COLUMNS),
        "section_count": len(record.sections),
        "unknown_field_count": len(item.unknown_fields),
        "is_synthetic": record.synthetic,
        "source_file": item.source_file,
        "content_hash": item.content_hash,
    }
