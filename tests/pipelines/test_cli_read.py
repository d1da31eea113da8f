"""The CLI's read side (no Prefect needed): reports and queries, as tables, CSV, JSON, Parquet."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.helpers import invoke


@pytest.mark.parametrize("name", ["coverage", "review", "wordcount"])
def test_each_report_prints_all_its_parts_as_json(warehouse: str, name: str) -> None:
    code, out, err = invoke("report", name, "--format", "json", "--warehouse", warehouse)
    assert (code, err) == (0, "")
    parts = json.loads(out)
    assert all(key.startswith(f"{name}_") for key in parts)
    assert sum(bool(rows) for rows in parts.values()) >= 5


def test_a_report_part_can_be_asked_for_by_its_full_name_as_csv(warehouse: str) -> None:
    code, out, _ = invoke("report", "wordcount_totals", "-f", "csv", "--warehouse", warehouse)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert rows[0]["records"] == "182" and rows[0]["words"] == "442984"


def test_table_format_shows_titles_for_each_part(warehouse: str) -> None:
    code, out, _ = invoke("report", "review", "--warehouse", warehouse)
    assert code == 0
    assert "review_queue" in out and "review_stale" in out


def test_as_of_moves_the_staleness_reference_date(warehouse: str) -> None:
    def stale(day: str) -> int:
        code, out, _ = invoke(
            "report", "review_stale", "-f", "json", "--as-of", day, "--warehouse", warehouse
        )
        assert code == 0
        return len(json.loads(out))

    assert stale("2026-06-26") == 16
    assert stale("2024-01-01") == 0
    assert stale("2030-01-01") > 16


def test_stats_report_is_the_stats_document(warehouse: str) -> None:
    code, out, _ = invoke("report", "stats", "--warehouse", warehouse)
    assert code == 0
    assert json.loads(out)["totals"]["souls"] == 182


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "nope"], 2, "error: there is no report called 'nope'"),
        (["report", "stg_tags"], 2, "error: there is no report called 'stg_tags'"),
        (
            ["report", "review", "--as-of", "June"],
            2,
            "Invalid value for '--as-of': 'June' is not a date like 2026-06-26",
        ),
        (["query", "selec 1"], 1, "error: the query failed: Parser Error"),
        (["query", "delete from occupations"], 1, "error: the query failed:"),
        (["query", "copy occupations to 'x.csv'"], 1, "error: the query failed:"),
        (["report", "--format", "xml", "stats"], 2, "Invalid value for '--format'"),
    ],
)
def test_bad_requests_get_one_sentence_and_the_documented_exit_code(
    warehouse: str, args: list[str], code: int, message: str
) -> None:
    exit_code, out, err = invoke(*args, "--warehouse", warehouse)
    assert exit_code == code
    assert message in " ".join(err.split())
    assert "Traceback" not in out + err


def test_a_missing_warehouse_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = invoke("report", "stats", "--warehouse", str(tmp_path))
    assert code == 1
    assert "run `occupipe run` first" in err


def test_table_output_is_limited_and_says_so(warehouse: str) -> None:
    code, out, err = invoke(
        "query",
        "select slug from occupations order by slug",
        "--limit",
        "3",
        "--warehouse",
        warehouse,
    )
    assert code == 0
    assert "absurdist" in out and "showing the first 3 rows" in err


def test_report_tables_are_limited_part_by_part_and_say_which(warehouse: str) -> None:
    # drawn whole, 100k records' review took 26 s to print (its queue alone is 50k rows)
    code, _, err = invoke("report", "wordcount", "--limit", "2", "--warehouse", warehouse)
    assert code == 0
    assert "(wordcount_by_category: showing the first 2 rows; use --limit or" in err
    assert "wordcount_totals:" not in err  # one row: nothing left out
    code, out, _ = invoke(
        "report", "wordcount_by_category", "-f", "csv", "--limit", "2", "--warehouse", warehouse
    )
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 21  # csv: every row


def test_json_query_output_is_plain_json(warehouse: str) -> None:
    code, out, _ = invoke(
        "query",
        "select slug, created_on from occupations order by slug limit 1",
        "-f",
        "json",
        "--warehouse",
        warehouse,
    )
    assert code == 0
    assert json.loads(out) == [{"slug": "absurdist", "created_on": "2026-06-28"}]


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_a_result_naming_two_columns_alike_is_refused_where_one_would_be_lost(
    warehouse: str, tmp_path: Path, fmt: str
) -> None:
    sql = "select o.slug, r.slug from occupations o join occupations r using (slug) limit 1"
    out_file = tmp_path / "result.parquet"
    extra = ["--out", str(out_file)] if fmt == "parquet" else []
    code, out, err = invoke("query", sql, "-f", fmt, *extra, "--warehouse", warehouse)
    assert (code, out) == (2, "")
    assert "more than one column named slug" in err and err.count("\n") == 1
    assert not out_file.exists()
    code, out, _ = invoke("query", sql, "-f", "csv", "--warehouse", warehouse)
    assert code == 0 and out.splitlines()[0] == "slug,slug"  # csv keeps both


def test_the_warehouse_folder_can_come_from_the_environment(
    warehouse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCCUPIPE_WAREHOUSE", warehouse)
    code, out, _ = invoke("query", "select count(*) as n from occupations", "-f", "csv")
    assert (code, out) == (0, "n\n182\n")


def test_table_output_shows_brackets_in_the_data_as_they_are(warehouse: str) -> None:
    sql = "select '^[a-z0-9]+(?:-[a-z0-9]+)*$ [bold]x[/bold]' as \"[col]\""
    code, out, _ = invoke("query", sql, "--warehouse", warehouse)
    assert code == 0
    assert "^[a-z0-9]+(?:-[a-z0-9]+)*$ [bold]x[/bold]" in out and "[col]" in out


def test_a_result_parquet_cannot_hold_fails_in_one_sentence_and_keeps_the_old_file(
    warehouse: str, tmp_path: Path
) -> None:
    target = tmp_path / "keep.parquet"
    target.write_text("keep")
    sql = "select interval 1 day as i"
    code, _, err = invoke(
        "query", sql, "-f", "parquet", "--out", str(target), "--warehouse", warehouse
    )
    assert code == 1 and err.startswith("error: the result cannot be written as Parquet")
    assert target.read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]


def test_json_output_writes_every_duckdb_value_type_as_text(warehouse: str) -> None:
    sql = (
        "select 'ab'::blob as b, time '10:30:00' as t, interval 2 day as i,"
        " '00000000-0000-0000-0000-000000000001'::uuid as u"
    )
    code, out, _ = invoke("query", sql, "-f", "json", "--warehouse", warehouse)
    assert code == 0
    assert json.loads(out) == [
        {
            "b": "6162",
            "t": "10:30:00",
            "i": "2 days, 0:00:00",
            "u": "00000000-0000-0000-0000-000000000001",
        }
    ]
