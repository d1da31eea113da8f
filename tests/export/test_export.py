"""Exports for downstream analysts, query output files, and the documented warehouse."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from occupipe.core.runs import RunSummary
from occupipe.export.writer import count_input_documents, export_release
from occupipe.ingest.tables import TABLES, TABLES_BY_NAME
from occupipe.release.store import ReleaseError
from pipelines.cli import app
from pipelines.cli.output import (
    render_json,
    rows_as_dicts,
    write_csv,
    write_json,
    write_json_object,
)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_exporting_the_same_release_twice_gives_the_same_bytes(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    warehouse = corpus_warehouse[0]
    export_release(warehouse, tmp_path / "a")
    export_release(warehouse, tmp_path / "b")
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["tables"]["occupations"]["rows"] == 182
    assert manifest["inputs"] == 182
    assert manifest["files"]["sections.parquet"] == digests(tmp_path / "a")["sections.parquet"]
    assert "## Data dictionary" in (tmp_path / "a" / "README.md").read_text()


@pytest.mark.parametrize(
    ("inputs", "documents"),
    [({"ledger": "inputs.parquet", "documents": 3}, 3), ([{"source": "a.json"}] * 2, 2), (None, 0)],
)
def test_the_input_count_reads_ledger_and_older_list_manifests(
    inputs: object, documents: int
) -> None:
    # releases built before the ledger was a file of its own listed the inputs in the manifest
    assert count_input_documents({} if inputs is None else {"inputs": inputs}) == documents


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_each_exported_file_reads_back_with_the_documented_schema(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path_factory: pytest.TempPathFactory, table: str
) -> None:
    out = tmp_path_factory.mktemp("export")
    export_release(corpus_warehouse[0], out, [table])
    path = out / f"{table}.parquet"
    declared = TABLES_BY_NAME[table]
    arrow = pq.read_schema(path)
    assert arrow.names == declared.column_names
    assert [f.metadata[b"description"].decode() for f in arrow] == [
        c.description for c in declared.columns
    ]
    assert pl.read_parquet(path).columns == declared.column_names
    stored = json.loads(pq.read_metadata(path).metadata[b"occupipe:columns"])
    assert stored == {c.name: c.description for c in declared.columns}
    with duckdb.connect() as con:
        names = [
            r[0]
            for r in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        ]
    assert names == declared.column_names


def test_a_partitioned_export_reads_back_as_one_table(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    export_release(corpus_warehouse[0], tmp_path, ["occupations", "tags"], partition_by="category")
    with duckdb.connect() as con:
        rows = con.execute(
            "select count(*), count(category) from read_parquet(?, hive_partitioning = true)",
            [str(tmp_path / "tags" / "*" / "*.parquet")],
        ).fetchall()
        law = con.execute(
            "select count(*) from read_parquet(?)",
            [str(tmp_path / "occupations" / "category=Law" / "part-0.parquet")],
        ).fetchall()
    assert rows == [(828, 828)]  # every tag row landed under its record's category
    assert law == [(3,)]


@pytest.mark.parametrize("partition_by", [None, "category"])
def test_an_export_streams_each_table_in_row_groups_of_a_fixed_size(
    corpus_warehouse: tuple[Path, RunSummary],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    partition_by: str | None,
) -> None:
    # read whole, a table took 2 GB to export at 100k records: it is copied group by group
    from occupipe.export import writer as export

    monkeypatch.setattr(export, "ROW_GROUP_ROWS_OF", {"sections": 400})
    export_release(corpus_warehouse[0], tmp_path / "out", ["sections"], partition_by=partition_by)
    size = 400 if partition_by is None else 100  # partitioned files: a quarter
    files = sorted((tmp_path / "out" / "sections").rglob("*.parquet")) or [
        tmp_path / "out" / "sections.parquet"
    ]
    for path in files:
        metadata = pq.read_metadata(path)
        groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert groups[:-1] == [size] * (len(groups) - 1) and 0 < groups[-1] <= size
    published = pq.read_metadata(corpus_warehouse[0] / "parquet" / "sections.parquet").num_rows
    assert sum(pq.read_metadata(p).num_rows for p in files) == published


def test_bad_export_requests_are_refused(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    with pytest.raises(ReleaseError, match="unknown table"):
        export_release(corpus_warehouse[0], tmp_path, ["nope"])
    with pytest.raises(ReleaseError, match="only --partition-by category"):
        export_release(corpus_warehouse[0], tmp_path, partition_by="kind")
    with pytest.raises(ReleaseError, match="no release"):
        export_release(tmp_path / "empty", tmp_path)
    warehouse, summary = corpus_warehouse
    elsewhere = f"../../{warehouse.name}/releases/{summary.run_id}"
    for release in ("nope", elsewhere):
        with pytest.raises(ReleaseError, match=f"there is no release {re.escape(release)}"):
            export_release(warehouse, tmp_path / "out", release_id=release)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "mine.txt").write_text("keep me")
    with pytest.raises(ReleaseError, match="not an empty folder"):
        export_release(warehouse, tmp_path / "used", ["tags"])
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["mine.txt"]


def test_an_export_that_fails_midway_leaves_no_partial_folder(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from occupipe.export import writer as export

    written: list[Path] = []
    write_table = export.write_table

    def fail_on_the_second(
        batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path, rows: int
    ) -> Path:
        if written:
            raise OSError(28, "No space left on device", str(path))
        written.append(write_table(batches, schema, path, rows))
        return written[-1]

    monkeypatch.setattr(export, "write_table", fail_on_the_second)
    out = tmp_path / "out"
    out.mkdir()  # an empty folder given as --out stays empty
    with pytest.raises(OSError, match="No space left"):
        export_release(corpus_warehouse[0], out)
    assert written and list(out.iterdir()) == [] and sorted(tmp_path.iterdir()) == [out]


def test_an_export_of_a_release_missing_a_file_says_which(
    tmp_path: Path,
) -> None:
    from tests.helpers import SOULS, build, copy_records

    warehouse = tmp_path / "wh"
    summary = build(copy_records(tmp_path / "in", sorted(SOULS.glob("*.json"))[:5]), warehouse)
    (warehouse / "releases" / summary.run_id / "parquet" / "tags.parquet").unlink()
    with pytest.raises(ReleaseError, match=f"release {summary.run_id} lacks the file of tags"):
        export_release(warehouse, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_warehouse_documents_its_tables_and_columns(
    corpus_warehouse: tuple[Path, RunSummary],
) -> None:
    with duckdb.connect(str(corpus_warehouse[0] / "occupations.duckdb"), read_only=True) as con:
        column = con.execute(
            "select comment from duckdb_columns() where schema_name = 'raw'"
            " and table_name = 'occupations' and column_name = 'slug'"
        ).fetchall()
        view = con.execute(
            "select comment from duckdb_views() where view_name = 'review_queue'"
        ).fetchall()
    assert column == [("URL-safe identifier of the record (primary key).",)]
    assert "review queue" in str(view[0][0])


def test_query_results_can_be_written_as_parquet_csv_or_json(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    warehouse = str(corpus_warehouse[0])
    runner = CliRunner()
    sql = "select slug, word_count from occupations order by slug"
    for fmt in ("parquet", "csv", "json"):
        out = tmp_path / f"result.{fmt}"
        result = runner.invoke(
            app, ["query", sql, "-f", fmt, "--out", str(out), "--warehouse", warehouse]
        )
        assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(tmp_path / "result.parquet").height == 182
    assert len((tmp_path / "result.csv").read_text().splitlines()) == 183
    assert len(json.loads((tmp_path / "result.json").read_text())) == 182
    refused = runner.invoke(app, ["query", sql, "-f", "parquet", "--warehouse", warehouse])
    assert refused.exit_code == 2 and "needs --out" in refused.stderr


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_result_file_written_in_batches_reads_as_the_printed_result(
    corpus_warehouse: tuple[Path, RunSummary],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    # fetched whole, 100k records' sections took 1.7 GB to write: a file is written batch by batch
    from pipelines.cli import results

    monkeypatch.setattr(results, "RESULT_BATCH_ROWS", 7)
    warehouse, runner = str(corpus_warehouse[0]), CliRunner()
    sql = (
        "select o.slug, b.recomputed_backlinks, o.created_on"
        " from occupations as o join backlinks as b using (slug) order by o.slug"
    )
    out = tmp_path / f"result.{fmt}"
    command = ["query", sql, "-f", fmt, "--warehouse", warehouse]
    written = runner.invoke(app, [*command, "--out", str(out)])
    printed = runner.invoke(app, command)
    assert (written.exit_code, printed.exit_code) == (0, 0)
    assert "wrote 182 rows" in written.stdout
    assert out.read_text(encoding="utf-8") == printed.stdout


ROWS = [(1, "a\nb", [1, {"k": 2}]), (2, None, "2026-01-02"), (3, "é", {"m": [1]})]


@pytest.mark.parametrize(
    "chunks", [[ROWS], [ROWS[:1], ROWS[1:]], [ROWS[:1], [], ROWS[1:]], [], [[]]]
)
def test_json_written_chunk_by_chunk_is_the_json_of_all_rows(
    chunks: list[list[tuple[object, ...]]],
) -> None:
    out = io.StringIO()
    count = write_json(out, ["n", "text", "value"], chunks)
    rows = [row for chunk in chunks for row in chunk]
    assert out.getvalue() == render_json(rows_as_dicts(["n", "text", "value"], rows)) + "\n"
    assert count == len(rows)


@pytest.mark.parametrize(
    "parts",
    [
        [("a", [ROWS[:1], [], ROWS[1:]]), ("b", []), ('c "q"', [ROWS])],
        [("only", [[]])],
        [],
    ],
)
def test_json_of_named_parts_written_chunk_by_chunk_is_the_json_of_the_whole_object(
    parts: list[tuple[str, list[list[tuple[object, ...]]]]],
) -> None:
    columns = ["n", "text", "value"]
    out = io.StringIO()
    write_json_object(out, [(name, columns, chunks) for name, chunks in parts])
    whole = {name: rows_as_dicts(columns, [r for c in chunks for r in c]) for name, chunks in parts}
    assert out.getvalue() == render_json(whole) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("name", ["review", "coverage_sections"])
def test_a_report_printed_as_its_rows_come_is_the_text_of_all_its_rows(
    corpus_warehouse: tuple[Path, RunSummary],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    name: str,
) -> None:
    # fetched whole, a report part at 100k records held up to 50k rows in memory
    from pipelines.cli import report, results

    monkeypatch.setattr(results, "RESULT_BATCH_ROWS", 7)
    warehouse = corpus_warehouse[0]
    printed = CliRunner().invoke(app, ["report", name, "-f", fmt, "--warehouse", str(warehouse)])
    assert printed.exit_code == 0, printed.stderr
    with duckdb.connect(str(warehouse / "occupations.duckdb"), read_only=True) as con:
        parts = []
        for model in report.report_models(con, name):
            cursor = con.execute(f"select * from {model}")
            parts.append((model, [d[0] for d in cursor.description or []], cursor.fetchall()))
    assert len(parts) > 1 or name == "coverage_sections"
    assert max(len(rows) for _, _, rows in parts) > 7  # some part came in several batches
    if fmt == "json":
        whole = {model: rows_as_dicts(columns, rows) for model, columns, rows in parts}
        expected = render_json(whole if len(parts) > 1 else whole[name]) + "\n"
    else:
        texts = [
            (f"# {model}\n" if len(parts) > 1 else "") + csv_text(columns, rows)
            for model, columns, rows in parts
        ]
        expected = "\n".join(texts)
    assert printed.stdout == expected


def csv_text(columns: list[str], rows: list[tuple[object, ...]]) -> str:
    """All rows as CSV, written in one piece."""
    buffer = io.StringIO()
    write_csv(buffer, columns, [rows])
    return buffer.getvalue()


def test_a_parquet_result_is_written_in_batches(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.cli import results

    monkeypatch.setattr(results, "RESULT_BATCH_ROWS", 50)
    out = tmp_path / "result.parquet"
    sql = "select slug, position, markdown from stg_sections order by slug, position"
    warehouse = str(corpus_warehouse[0])
    result = CliRunner().invoke(
        app, ["query", sql, "-f", "parquet", "--out", str(out), "--warehouse", warehouse]
    )
    assert result.exit_code == 0, result.stderr
    metadata = pq.read_metadata(out)
    assert metadata.num_row_groups > 1 and metadata.num_rows == len(
        pl.read_parquet(corpus_warehouse[0] / "parquet" / "sections.parquet")
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_a_query_failing_midway_leaves_the_file_that_was_there(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"result.{fmt}"
    out.write_text("earlier")
    sql = "select case when i > 5000 then 'x'::integer else i end as n from range(100000) t(i)"
    result = CliRunner().invoke(
        app, ["query", sql, "-f", fmt, "--out", str(out), "--warehouse", str(corpus_warehouse[0])]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the query failed: Conversion Error: Could not convert")
    assert out.read_text() == "earlier" and sorted(tmp_path.iterdir()) == [out]


def test_partition_values_are_encoded_so_files_stay_inside_and_read_back_true(
    tmp_path: Path,
) -> None:
    from occupipe.export.writer import write_partitioned

    categories = {"a": "Arts/Design", "b": "x/../../../escaped", "c": "a=b", "d": "Law"}
    table = pa.table({"slug": list(categories), "n": [1, 2, 3, 4]})
    folder = tmp_path / "out" / "occupations"
    written = write_partitioned(table.to_batches(), table.schema, folder, categories, 2)
    assert all((tmp_path / "out" / "occupations") in p.parents for p in written)
    assert [p.parent.name for p in written][-1] == "category=x%2F..%2F..%2F..%2Fescaped"
    with duckdb.connect() as con:
        rows = con.execute(
            "select slug, category from read_parquet(?, hive_partitioning = true) order by slug",
            [str(tmp_path / "out" / "occupations" / "*" / "*.parquet")],
        ).fetchall()
    assert dict(rows) == categories


def test_the_export_readme_documents_only_the_exported_tables(
    corpus_warehouse: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    export_release(corpus_warehouse[0], tmp_path, ["occupations", "tags"])
    readme = (tmp_path / "README.md").read_text()
    assert "#### `occupations`" in readme and "#### `tags`" in readme
    assert "#### `sections`" not in readme
