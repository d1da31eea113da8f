"""Delta Lake exports, in a local folder and on a real S3 server: one version per release."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from occupipe.core.objectstore import ObjectStoreError
from occupipe.core.settings import PROJECT_DIR
from occupipe.export.delta import RELEASE_KEY, storage_options
from occupipe.export.location import Location
from occupipe.export.targets import ExportResult, export
from occupipe.export.writer import ExportUsageError, export_release
from occupipe.release.store import ReleaseError
from occupipe.release.verify import verify_export
from pipelines.cli import app
from tests.export.conftest import TwoReleases
from tests.servers import S3Server

READ_BACK = ["occupations", "sections", "tags"]


@pytest.fixture(params=["folder", "s3"])
def delta_out(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a Delta export goes: a new local folder, or a new prefix on the S3 server."""
    if request.param == "folder":
        return str(tmp_path / "delta")
    server: S3Server = request.getfixturevalue("s3_server")
    return server.uri(f"delta-{uuid.uuid4().hex[:8]}")


def test_each_release_exported_is_a_version_every_reader_time_travels_to(
    two_releases: TwoReleases, delta_out: str
) -> None:
    warehouse, releases = two_releases.warehouse, [two_releases.first, two_releases.second]
    for version, release in enumerate(releases):
        done = export(warehouse, delta_out, "delta", release_id=release)
        assert set(done.versions or {}) == set(done.added) and len(done.added) == 12
        assert set((done.versions or {}).values()) == {version}
    options = storage_options(Location(delta_out))
    for name in READ_BACK:
        uri = Location(delta_out).child(name)
        for version, release in enumerate(releases):
            assert_reads_back(uri, version, options, two_releases.table(release, name))
        history = DeltaTable(uri, storage_options=options).history()
        assert {c["version"]: c[RELEASE_KEY] for c in history} == dict(enumerate(releases))
    assert verify_export(delta_out).intact


def assert_reads_back(
    uri: str, version: int, options: dict[str, str] | None, published: Path
) -> None:
    """Version `version` of the table at `uri`, read by polars, pyarrow and DuckDB, holds the rows
    of the published file, in its order."""
    expected = pl.read_parquet(published)
    assert expected.height > 0
    assert_frame_equal(pl.read_delta(uri, version=version, storage_options=options), expected)
    dataset = DeltaTable(uri, version=version, storage_options=options).to_pyarrow_dataset()
    assert dataset.to_table().to_pylist() == pq.read_table(published).to_pylist()
    with duckdb.connect() as con:
        con.register("exported", dataset)
        rows = con.execute("select * from exported").fetchall()
        wanted = con.execute("select * from read_parquet(?)", [str(published)]).fetchall()
    assert rows == wanted


def test_exporting_a_release_again_adds_no_version(
    two_releases: TwoReleases, delta_out: str
) -> None:
    warehouse, location = two_releases.warehouse, Location(delta_out)
    export(warehouse, delta_out, "delta", ["tags"], release_id=two_releases.first)
    export(warehouse, delta_out, "delta", ["tags"], release_id=two_releases.second)
    manifest = location.read_text("manifest.json")
    for release in (two_releases.first, two_releases.second):
        again = export(warehouse, delta_out, "delta", ["tags"], release_id=release)
        assert again.added == [] and "nothing added" in again.summary()
    table = DeltaTable(location.child("tags"), storage_options=storage_options(location))
    assert table.version() == 1
    assert location.read_text("manifest.json") == manifest
    assert manifest is not None and two_releases.second in manifest
    # a table exported for the first time starts at version 0, beside the others
    more = export(warehouse, delta_out, "delta", ["tags", "aliases"])
    assert more.versions == {"tags": 1, "aliases": 0} and more.added == ["aliases"]


def test_a_delta_export_writes_its_manifest_and_data_dictionary(
    two_releases: TwoReleases, tmp_path: Path
) -> None:
    out = tmp_path / "delta"
    export(two_releases.warehouse, str(out), "delta", ["occupations"], two_releases.first)
    export(two_releases.warehouse, str(out), "delta", ["occupations"], two_releases.second)
    manifest = json.loads((out / "manifest.json").read_text())
    versions = manifest["tables"]["occupations"]["versions"]
    assert [(v["version"], v["release_id"]) for v in versions] == [
        (0, two_releases.first),
        (1, two_releases.second),
    ]
    assert manifest["format"] == "delta" and manifest["release_key"] == RELEASE_KEY
    readme = (out / "README.md").read_text()
    assert "#### `occupations`" in readme and "#### `tags`" not in readme
    described = DeltaTable(str(out / "occupations")).schema().fields[0].metadata
    assert described["description"] == "URL-safe identifier of the record (primary key)."
    # every file of the tables is checksummed, as in a Parquet export: `occupipe verify` reads it
    assert len(manifest["files"]) == 4 and verify_export(out).checked == 4
    data = next(out.glob("occupations/*.parquet"))
    data.write_bytes(data.read_bytes()[:-1] + bytes([data.read_bytes()[-1] ^ 1]))
    problems = verify_export(out).problems
    assert [(p.name, p.kind) for p in problems] == [(f"occupations/{data.name}", "changed")]


def test_a_delta_export_refuses_partitions_and_folders_it_did_not_write(
    two_releases: TwoReleases, tmp_path: Path
) -> None:
    with pytest.raises(ExportUsageError, match="--partition-by is for --format parquet only"):
        export(two_releases.warehouse, str(tmp_path / "d"), "delta", partition_by="category")
    assert not (tmp_path / "d").exists()
    export_release(two_releases.warehouse, tmp_path / "parquet", ["tags"])
    with pytest.raises(ReleaseError, match=r"holds tags\.parquet, the manifest\.json of a Parquet"):
        export(two_releases.warehouse, str(tmp_path / "parquet"), "delta", ["tags"])
    assert sorted(p.name for p in (tmp_path / "parquet").iterdir()) == [
        "README.md",
        "manifest.json",
        "tags.parquet",
    ]
    # a partitioned one has a folder named as the table: its manifest tells
    export_release(two_releases.warehouse, tmp_path / "parts", ["tags"], partition_by="category")
    with pytest.raises(ReleaseError, match=r"holds the manifest\.json of a Parquet export"):
        export(two_releases.warehouse, str(tmp_path / "parts"), "delta", ["tags"])
    assert not (tmp_path / "parts" / "tags" / "_delta_log").exists()


def test_the_export_command_writes_delta_and_says_what_it_added(
    two_releases: TwoReleases, tmp_path: Path
) -> None:
    runner, out = CliRunner(), str(tmp_path / "delta")
    command = ["export", "--out", out, "--format", "delta", "--tables", "tags"]
    command += ["--warehouse", str(two_releases.warehouse)]
    first = runner.invoke(app, command)
    again = runner.invoke(app, command)
    assert (first.exit_code, again.exit_code) == (0, 0), first.stderr + again.stderr
    release = two_releases.second
    assert first.stdout == f"exported 1 table(s) of release {release} to {out} as Delta version 0\n"
    assert again.stdout == (
        f"release {release} is already version 0 of the Delta tables at {out}: nothing added\n"
    )
    refused = runner.invoke(app, [*command, "--partition-by", "category"])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    unknown = runner.invoke(app, [*command, "--format", "iceberg"])
    assert unknown.exit_code == 2


def test_concurrent_exports_of_a_release_commit_it_once(
    two_releases: TwoReleases, tmp_path: Path
) -> None:
    # each commit goes exactly on top of the version its export read, with an application
    # transaction: Delta refuses the later of two, and that export finds the release there
    out, warehouse = str(tmp_path / "delta"), two_releases.warehouse

    def export_four_at_once(release: str) -> list[ExportResult]:
        with ThreadPoolExecutor(4) as pool:
            return list(
                pool.map(lambda _: export(warehouse, out, "delta", ["sections"], release), range(4))
            )

    for version, release in enumerate((two_releases.first, two_releases.second)):
        done = export_four_at_once(release)
        assert sum(bool(d.added) for d in done) == 1
        assert {(d.versions or {})["sections"] for d in done} == {version}
    history = DeltaTable(str(tmp_path / "delta" / "sections")).history()
    assert sorted(c[RELEASE_KEY] for c in history) == [two_releases.first, two_releases.second]


@pytest.mark.parametrize("problem", ["denied", "missing bucket"])
def test_deltalakes_own_s3_errors_are_one_sentence(
    two_releases: TwoReleases,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    problem: str,
) -> None:
    # the destination is listed with s3fs first, which catches these before deltalake writes;
    # without that listing, deltalake's own multi-line reports are turned into the same sentences
    monkeypatch.setattr(Location, "entries", lambda self: [])
    out = s3_server.uri("delta-denied") if problem == "denied" else "s3://no-such-bucket/x"
    if problem == "denied":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ObjectStoreError) as raised:
        export(two_releases.warehouse, out, "delta", ["tags"])
    sentence = str(raised.value)
    assert "\n" not in sentence and "\x1b" not in sentence and "not-the-secret" not in sentence
    if problem == "denied":
        assert sentence.startswith(f"access to {out} was denied by {s3_server.endpoint} (The")
    else:
        assert sentence == f"the bucket of {out} does not exist at {s3_server.endpoint}"


def test_a_delta_export_to_s3_with_only_a_profile_says_what_it_needs(
    two_releases: TwoReleases, monkeypatch: pytest.MonkeyPatch
) -> None:
    # deltalake reads keys from the environment (or the machine's role), never a profile
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("AWS_PROFILE", "analytics")
    with pytest.raises(ExportUsageError, match="not from AWS_PROFILE"):
        export(two_releases.warehouse, "s3://bucket/delta", "delta", ["tags"])


def test_the_time_travel_examples_of_the_docs_run_as_written(
    two_releases: TwoReleases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (PROJECT_DIR / "docs" / "exports.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(blocks) == 2
    for release in (two_releases.first, two_releases.second):
        export(two_releases.warehouse, str(tmp_path / "exports" / "delta"), "delta", None, release)
    monkeypatch.chdir(tmp_path)
    names: dict[str, Any] = {}
    for block in blocks:
        exec(block, names)
    assert (names["first"].height, names["latest"].height, names["second"].num_rows) == (30, 28, 28)
    assert names["releases"] == {"0": two_releases.first, "1": two_releases.second}
    assert sum(count for _, count in names["by_category"]) == 28
    assert (names["retitled"].height, names["removed"].height) == (1, 2)
