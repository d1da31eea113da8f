"""The static data-docs site of a warehouse: assemble every page and write it to a folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from occupipe.core.files import write_bytes_atomically
from occupipe.core.layout import DATABASE_NAME, MANIFEST, SITE_DIR
from occupipe.core.runs import DataTestResult
from occupipe.release.store import read_manifest, release_path
from occupipe.reporting.groups import GROUP_PAGES
from occupipe.reporting.lineage import lineage_site_pages
from occupipe.reporting.pages import Page, Reports, render_page, view_comments
from occupipe.reporting.sitepages import (
    dictionary_page,
    headline,
    index_page,
    quarantine_page,
    runs_page,
    tests_page,
)
from occupipe.warehouse.datatests import RESULTS_TABLE, load_data_tests, run_data_test


@dataclass(frozen=True)
class SiteSource:
    """What a site is made from: a warehouse file, its release and SQL models."""

    database: Path
    release: str
    sql_dir: Path
    # the data tests' results with their sample rows, when the run has them; read from the
    # warehouse (and the failing tests re-run for samples) when empty
    results: Sequence[DataTestResult] = field(default_factory=tuple)


@dataclass(frozen=True)
class RenderedSite:
    """Every page but the index, which waits for the gates (`site_files`)."""

    release: str
    opening: str  # the index's headline figures
    results: list[DataTestResult]
    pages: list[Page]


def read_results(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> list[DataTestResult]:
    """The data tests' results the warehouse recorded; each failing test re-run for samples."""
    recorded = con.execute(
        f"select test_name, severity, failures from {RESULTS_TABLE} order by test_name"
    ).fetchall()
    failing = {str(name) for name, _, failures in recorded if failures}
    tests = {t.name: t for t in load_data_tests(sql_dir)} if failing else {}
    results = []
    for name, severity, failures in recorded:
        test = tests.get(str(name))
        if failures and test is not None:
            sampled = run_data_test(con, test)
            results.append(
                DataTestResult(
                    str(name), str(severity), int(failures), sampled.sample, sampled.columns
                )
            )
        else:
            results.append(DataTestResult(str(name), str(severity), int(failures), [], []))
    return results


PageMaker = Callable[[Reports], Page]
SITE_THREADS = 2  # the pages' queries side by side (DuckDB lets go of the GIL while it works)


def render_site(source: SiteSource) -> RenderedSite:
    """Every page of the site that the warehouse and the SQL make (all but the index's gates).

    A run calls it on a thread of its own as soon as the data tests have run, while the gates
    are applied and `report.html` written: only the index waits for the gates.
    """

    def render(make: PageMaker) -> list[Page]:
        with con.cursor() as cursor:
            return [make(Reports(cursor, comments))]

    def opening(r: Reports) -> Page:
        return Page("", "", headline(r, source.release))

    with (
        duckdb.connect(str(source.database), read_only=True) as con,
        ThreadPoolExecutor(SITE_THREADS, thread_name_prefix="site") as pool,
    ):
        lineage = pool.submit(lineage_site_pages, source.sql_dir)
        results = list(source.results) or read_results(con, source.sql_dir)
        comments = view_comments(con)
        makers = [opening, *GROUP_PAGES, dictionary_page, quarantine_page, runs_page]
        first, *pages = [page for found in pool.map(render, makers) for page in found]
        pages += [tests_page(results), *lineage.result()]
    return RenderedSite(source.release, first.body, results, pages)


def site_files(site: RenderedSite, gates: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Every page of the site, the index with the gates, as (file name, HTML)."""
    pages = [index_page(site.opening, gates, site.results), *site.pages]
    return [(page.name, render_page(page, site.release)) for page in pages]


def write_site(site: RenderedSite, gates: Mapping[str, Mapping[str, Any]], out: Path) -> list[Path]:
    """Write the site's pages into `out` (created if missing); the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, page in site_files(site, gates):
        path = out / name
        write_bytes_atomically(path, page.encode("utf-8"))
        written.append(path)
    return written


def write_release_site(
    site: RenderedSite, gates: Mapping[str, Mapping[str, Any]], build_dir: Path
) -> list[Path]:
    """The site a release carries, in its `site/` folder."""
    return write_site(site, gates, build_dir / SITE_DIR)


def release_source(
    warehouse: Path, release: str, default_sql_dir: Path
) -> tuple[SiteSource, dict[str, Any]]:
    """A published (or failed) release as a site's source, and its gates: its DuckDB file and
    manifest; the SQL its manifest names, or `default_sql_dir` when that folder is gone."""
    folder = release_path(warehouse, release)
    manifest = read_manifest(warehouse, release) if (folder / MANIFEST).exists() else {}
    named = Path(str(manifest.get("options", {}).get("sql_dir", "")))
    sql_dir = named if str(named) and (named / "marts").is_dir() else default_sql_dir
    return SiteSource(folder / DATABASE_NAME, release, sql_dir), manifest.get("gates", {})
