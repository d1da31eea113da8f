"""`import occupipe` for notebooks: connections and polars frames of any release, errors as
one sentence, and the documented example running as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

import occupipe
from occupipe.core.settings import PROJECT_DIR
from tests.helpers import SOULS, build, copy_records, copy_sample, query


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A warehouse of two releases (12 records, then 13): (folder, first id, second id)."""
    folder = tmp_path_factory.mktemp("api")
    source = copy_sample(folder / "source", 12)
    first = build(source, folder / "w")
    copy_records(source, [sorted(SOULS.glob("*.json"))[12]])
    second = build(source, folder / "w")
    assert first.release_id and second.release_id
    return folder / "w", first.release_id, second.release_id


def test_importing_occupipe_loads_neither_prefect_nor_duckdb() -> None:
    probe = "import occupipe, sys; assert not {'prefect', 'duckdb', 'polars'} & set(sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_connect_reads_the_current_or_a_given_release_read_only(
    warehouse: tuple[Path, str, str],
) -> None:
    folder, first, _ = warehouse
    with occupipe.connect(folder) as con:
        assert con.execute("select count(*) from occupations").fetchone() == (13,)
        assert con.execute("select count(*) from run_history").fetchone() == (2,)
        with pytest.raises(duckdb.Error):
            con.execute("create table t (x int)")
    with occupipe.connect(folder, release=first) as con:
        assert con.execute("select count(*) from occupations").fetchone() == (12,)


def test_scan_gives_a_lazy_frame_of_the_published_parquet(
    warehouse: tuple[Path, str, str],
) -> None:
    folder, first, _ = warehouse
    tags = occupipe.scan("tags", folder)
    assert isinstance(tags, pl.LazyFrame)
    counted = tags.select(pl.len()).collect().item()
    assert counted == query(folder, "select count(*) from raw.tags")[0][0]
    assert occupipe.scan("occupations", folder, release=first).collect().height == 12


def test_releases_lists_every_release_with_the_current_one_marked(
    warehouse: tuple[Path, str, str],
) -> None:
    folder, first, second = warehouse
    listed = occupipe.releases(folder)
    assert listed["release_id"].to_list() == [first, second]
    assert listed["is_current"].to_list() == [False, True]
    assert listed["records"].to_list() == [12, 13]


def test_report_equals_the_view_the_cli_prints(warehouse: tuple[Path, str, str]) -> None:
    folder, _, _ = warehouse
    frame = occupipe.report("coverage_sections", folder)
    rows = query(folder, "select * from coverage_sections")
    assert frame.rows() == rows


@pytest.mark.parametrize(
    "name",
    ["wordcount_totals", "wordcount_by_category", "wordcount_by_kind", "wordcount_by_section"],
)
def test_word_totals_are_integers_not_decimals(warehouse: tuple[Path, str, str], name: str) -> None:
    # DuckDB sums integers as HUGEINT, which reaches polars as decimal(38, 0)
    assert occupipe.report(name, warehouse[0]).schema["words"] == pl.Int64


def test_no_table_or_view_hands_clients_128_bit_integers(warehouse: tuple[Path, str, str]) -> None:
    # a HUGEINT column reaches polars, Parquet and pandas as decimal(38, 0), not as an integer
    found = query(
        warehouse[0],
        "select table_name || '.' || column_name from information_schema.columns"
        " where data_type in ('HUGEINT', 'UHUGEINT') order by all",
    )
    assert found == []
    assert occupipe.report("wordcount_extremes", warehouse[0]).schema["word_count"] == pl.Int64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: occupipe.scan("nope", w), "there is no table 'nope'; the tables are "),
        (lambda w: occupipe.connect(w, release="1999"), "has no release '1999'"),
        (lambda w: occupipe.connect(w, release="../x"), "has no release '../x'"),
        (lambda w: occupipe.report("coverage", w), "report 'coverage' has parts: name one of "),
        (lambda w: occupipe.report("nope", w), "there is no report 'nope'; the reports are "),
        (lambda w: occupipe.releases(w / "missing"), "no warehouse at "),
    ],
)
def test_what_cannot_be_done_is_one_sentence(
    warehouse: tuple[Path, str, str], call: object, message: str
) -> None:
    folder, _, _ = warehouse
    with pytest.raises(occupipe.OccupipeError) as raised:
        call(folder)  # type: ignore[operator]
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_documented_example_runs_as_written(
    warehouse: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _, second = warehouse
    page = (PROJECT_DIR / "docs" / "python-api.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    monkeypatch.setenv("OCCUPIPE_WAREHOUSE", str(folder))
    done = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    sections = query(folder, "select count(*) from occupation_sections")[0][0]
    assert f"release {second}: {sections} sections" in done.stdout
    assert "shape: (3, 2)" in done.stdout and "shape: (1," in done.stdout
