"""The normalized tables: Arrow schemas, keys and column descriptions (the data dictionary)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field(
                    c.name, c.type, nullable=c.nullable, metadata={"description": c.description}
                )
                for c in self.columns
            ]
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


STR, I16, I32, I64, F64, BOOL, DATE = (
    pa.string(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.float64(),
    pa.bool_(),
    pa.date32(),
)


def _slug() -> Column:
    return Column("slug", STR, "Slug of the occupation record this row belongs to.", False)


def _position() -> Column:
    return Column("position", I32, "0-based position of the item in the record's list.", False)


def _child(name: str, description: str, *columns: Column) -> Table:
    return Table(name, description, ("slug", "position"), (_slug(), _position(), *columns))


OCCUPATIONS = Table(
    "occupations",
    "One row per loaded record: scalar metadata, stated computed fields, git scalars, lineage.",
    ("slug",),
    (
        Column("slug", STR, "URL-safe identifier of the record (primary key).", False),
        Column("title", STR, "Display title (top-level `title`).", False),
        Column("metadata_title", STR, "`metadata.title` as stated.", False),
        Column("metadata_slug", STR, "`metadata.slug` as stated (should equal `slug`).", False),
        Column("category", STR, "Primary top-level domain, e.g. 'Healthcare'.", False),
        Column("kind", STR, "`metadata.kind` as stated; null in older records (means occupation)."),
        Column("status", STR, "Editorial maturity: stub, draft, review or stable.", False),
        Column("provenance", STR, "How the record was first drafted; null when not stated."),
        Column("difficulty", STR, "Depth of expertise: foundational .. expert; null if absent."),
        Column("summary", STR, "One- or two-sentence essence; null if absent."),
        Column("created_on", DATE, "`metadata.created`."),
        Column("updated_on", DATE, "`metadata.updated`."),
        Column("last_reviewed_on", DATE, "`metadata.last_reviewed`; null = never reviewed."),
        Column(
            "source_origin", STR, "Upstream collection of a federated record; null if authored."
        ),
        Column("source_url", STR, "Canonical URL of the upstream entry."),
        Column("source_repo", STR, "Upstream repository."),
        Column("source_license", STR, "Upstream licence."),
        Column("source_attribution", STR, "Credit for the upstream authors."),
        Column("source_fetched_on", DATE, "Date the federated record was fetched."),
        Column("stated_word_count", I64, "`computed.wordCount` as the site stated it."),
        Column("stated_reading_time_minutes", F64, "`computed.readingTimeMinutes` as stated."),
        Column("stated_completeness", F64, "`computed.completeness` as stated."),
        Column("stated_is_verified", BOOL, "`computed.verified` as stated."),
        Column("stated_is_ai_drafted", BOOL, "`computed.aiDrafted` as stated."),
        Column("stated_is_unverified_ai_draft", BOOL, "`computed.unverifiedAiDraft` as stated."),
        Column("stated_is_federated", BOOL, "`computed.federated`; null in older records."),
        Column("git_created", STR, "`git.created` (first commit date), null when unknown."),
        Column("git_updated", STR, "`git.updated` (last commit date), null when unknown."),
        Column("git_revisions", I32, "`git.revisions`: number of commits."),
        Column("citation_apa", STR, "APA citation string."),
        Column("citation_bibtex", STR, "BibTeX entry."),
        Column("citation_text", STR, "Plain-text citation."),
        Column("section_count", I32, "Number of sections in the record.", False),
        Column("unknown_field_count", I32, "Fields the contract does not know (kept).", False),
        Column("is_synthetic", BOOL, "True for generated demo records (`synthetic: true`).", False),
        Column(
            "source_file",
            STR,
            "Input file, relative to the source folder; `file:line` for an NDJSON line,"
            " `file[index]` for an array element.",
            False,
        ),
        Column(
            "content_hash",
            STR,
            "SHA-256 of the document's bytes: the file, its NDJSON line, or its array"
            " element as JSON.",
            False,
        ),
    ),
)

SECTIONS = _child(
    "sections",
    "One row per markdown section of a record, in document order.",
    Column("heading", STR, "H2 heading as written.", False),
    Column("anchor_id", STR, "Anchor id of the section (`id`).", False),
    Column("markdown", STR, "Section body in markdown.", False),
    Column("stated_word_count", I32, "`wordCount` as the site stated it.", False),
    Column("word_count", I32, "Word count recomputed by occupipe (metrics.md rule).", False),
    Column("is_canonical", BOOL, "Heading exactly matches a canonical section.", False),
    Column(
        "html",
        STR,
        "The section's `html` as stated (rendered by the site); only kept with `--with-html`,"
        " null without it or when the record has none.",
    ),
)

TAGS = _child("tags", "Tags of a record.", Column("tag", STR, "Tag.", False))
ALIASES = _child("aliases", "Alternative names of a record.", Column("alias", STR, "Alias.", False))
RELATIONSHIPS = _child(
    "relationships",
    "Typed relationships (`metadata.related`) as stated, dangling targets included.",
    Column("target_slug", STR, "Slug the relationship points at.", False),
    Column("relationship_type", STR, "related, specialization, prerequisite, ...", False),
    Column("note", STR, "Free-text note on the relationship."),
)
SPECIALIZATIONS = _child(
    "specializations",
    "Narrower variants of a role.",
    Column("specialization", STR, "Specialization name.", False),
)
REFERENCE_SOURCES = _child(
    "reference_sources",
    "References a record draws on (`metadata.sources`).",
    Column("title", STR, "Title of the reference.", False),
    Column("url", STR, "URL of the reference."),
    Column("source_kind", STR, "book, standard, article, interview, course, documentation, other."),
)
REVIEWERS = _child(
    "reviewers",
    "People who reviewed a record.",
    Column("name", STR, "Reviewer name.", False),
    Column("credential", STR, "How the reviewer knows the field."),
    Column("reviewed_on", DATE, "Date of the review."),
)
CONTRIBUTORS = _child(
    "contributors",
    "Names in `metadata.contributors`.",
    Column("name", STR, "Contributor name or handle.", False),
)
GIT_AUTHORS = _child(
    "git_authors",
    "Commit authors from `git.authors`.",
    Column("name", STR, "Author name.", False),
    Column("commits", I32, "Commits by this author."),
)
COUNTRY_VARIANTS = _child(
    "country_variants",
    "How the role differs by country or jurisdiction.",
    Column("region", STR, "Country or region.", False),
    Column("note", STR, "How it differs.", False),
)
STATED_BACKLINKS = _child(
    "stated_backlinks",
    "`computed.backlinks` as the site stated them.",
    Column("backlink_slug", STR, "Slug of a record the site says links here.", False),
)

TABLES: tuple[Table, ...] = (
    OCCUPATIONS,
    SECTIONS,
    TAGS,
    ALIASES,
    RELATIONSHIPS,
    SPECIALIZATIONS,
    REFERENCE_SOURCES,
    REVIEWERS,
    CONTRIBUTORS,
    GIT_AUTHORS,
    COUNTRY_VARIANTS,
    STATED_BACKLINKS,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
