"""Sources: the static API over HTTP, with faults, retries, conditional fetches and bad indexes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from occupipe.core.rejection import Rejection, SourceError
from occupipe.core.runs import HttpSettings
from occupipe.ingest.http import (
    Fetched,
    FetchFailed,
    fetch_record,
    get_with_retries,
    mirror_source,
    retry_delay,
)
from occupipe.ingest.tables import TABLES
from tests.helpers import SAMPLE, SOULS, build, parquet_digests, query
from tests.http_server import serve

FAST = HttpSettings(concurrency=4, connect_timeout=2, read_timeout=1.0, retries=2, backoff=0.01)


def small_api(tmp_path: Path, count: int = 30) -> Path:
    """A copy of the sample API with `count` records (index and records)."""
    root = tmp_path / "api"
    (root / "souls").mkdir(parents=True)
    index = json.loads((SAMPLE / "souls.json").read_text())[:count]
    (root / "souls.json").write_text(json.dumps(index))
    for entry in index:
        shutil.copy(SOULS / f"{entry['slug']}.json", root / "souls" / f"{entry['slug']}.json")
    return root


@pytest.mark.slow  # two full builds of the real sample
def test_the_warehouse_built_over_http_equals_the_one_built_from_the_folder(tmp_path: Path) -> None:
    with serve(SAMPLE) as server:
        summary = build(server.base_url, tmp_path / "http", http=FAST)
    build(SOULS, tmp_path / "folder")
    assert summary.loaded == 182
    assert parquet_digests(tmp_path / "http") == parquet_digests(tmp_path / "folder")
    assert len(parquet_digests(tmp_path / "http")) == len(TABLES)


def test_faults_are_retried_and_a_record_that_keeps_failing_is_quarantined(tmp_path: Path) -> None:
    api = small_api(tmp_path)
    slugs = sorted(p.stem for p in (api / "souls").glob("*.json"))
    with serve(api) as server:
        server.faults = {
            f"/souls/{slugs[0]}.json": ["status:500", "status:503"],  # then succeeds
            f"/souls/{slugs[1]}.json": ["status:429"],  # Retry-After: 1, then succeeds
            f"/souls/{slugs[2]}.json": ["slow:3"],  # past the read timeout once
            f"/souls/{slugs[3]}.json": ["truncate", "truncate", "truncate"],  # never whole
        }
        server.extra_slugs = ["listed-but-missing"]
        summary = build(server.base_url, tmp_path / "wh", http=FAST, max_reject_rate=0.1)
    rejected = {r.source_file: (r.stage, r.reason) for r in summary.rejections}
    assert summary.loaded == 29
    assert rejected[f"{slugs[3]}.json"][0] == "fetch"
    assert "connection broke" in rejected[f"{slugs[3]}.json"][1]
    assert rejected["listed-but-missing.json"] == (
        "fetch",
        f"GET {server.base_url}/souls/listed-but-missing.json answered HTTP 404",
    )
    assert summary.loaded + summary.rejected == summary.inputs == 31
    seconds = summary.stage_seconds  # the fetch waited out a timeout; extraction is apart
    assert seconds["fetch"] > 1.0 > seconds["extract"]


def test_retry_after_is_honoured_and_backoff_doubles() -> None:
    response = Fetched(429, httpx.Headers({"Retry-After": "7"}), b"")
    assert retry_delay(response, 0, FAST) == 7
    assert [retry_delay(None, n, HttpSettings(backoff=0.5)) for n in range(3)] == [0.5, 1.0, 2.0]
    waits: list[float] = []
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    with httpx.Client(transport=transport) as client, pytest.raises(FetchFailed, match="HTTP 503"):
        get_with_retries(client, "http://x/y", FAST, sleep=waits.append)
    assert waits == [0.01, 0.02]


def test_a_failing_index_fails_the_run_and_leaves_the_warehouse(tmp_path: Path) -> None:
    api = small_api(tmp_path)
    with serve(api) as server:
        build(server.base_url, tmp_path / "wh", http=FAST)
        server.faults = {"/souls.json": ["status:500"] * 5}
        with pytest.raises(SourceError, match=r"cannot fetch the index .*souls.json: HTTP 500"):
            build(server.base_url, tmp_path / "wh", http=FAST)
    assert query(tmp_path / "wh", "select count(*) from occupations") == [(30,)]


def test_unchanged_records_are_not_downloaded_again(tmp_path: Path) -> None:
    api = small_api(tmp_path)
    with serve(api) as server:
        mirror_source(server.base_url, tmp_path / "mirror", FAST)
        server.requests.clear()
        paths, rejections = mirror_source(server.base_url, tmp_path / "mirror", FAST)
    assert (len(paths), rejections) == (30, [])
    record_requests = [h for p, h in server.requests if p.startswith("/souls/")]
    assert len(record_requests) == 30
    assert all("If-Modified-Since" in h for h in record_requests)  # answered 304


def test_credentials_come_from_the_environment_never_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = small_api(tmp_path, 3)
    monkeypatch.setenv("OCCUPIPE_HTTP_TOKEN", "s3cret")
    with serve(api) as server:
        summary = build(server.base_url, tmp_path / "wh", http=FAST)
        assert all(h.get("Authorization") == "Bearer s3cret" for _, h in server.requests)
        with pytest.raises(SourceError, match="credentials in the URL are not accepted"):
            build(server.base_url.replace("//", "//user:pw@"), tmp_path / "wh", http=FAST)
    manifest = (tmp_path / "wh" / "releases" / summary.run_id / "manifest.json").read_text()
    assert "s3cret" not in manifest


def test_an_etag_is_sent_back_and_a_304_keeps_the_mirrored_copy(tmp_path: Path) -> None:
    body = (SOULS / "absurdist.json").read_bytes()
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"ETag": '"v1"'})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        first = fetch_record(client, "http://api", "absurdist", tmp_path, FAST)
        second = fetch_record(client, "http://api", "absurdist", tmp_path, FAST)
    assert first == second == tmp_path / "absurdist.json"
    assert seen == [None, '"v1"']
    assert (tmp_path / "absurdist.json").read_bytes() == body


def test_an_index_that_lists_no_records_fails_with_one_sentence(tmp_path: Path) -> None:
    with (
        serve(small_api(tmp_path, count=0)) as server,
        pytest.raises(SourceError, match="lists no records: nothing to build"),
    ):
        build(server.base_url, tmp_path / "wh", http=FAST)
    assert not (tmp_path / "wh" / "current").exists()


def test_a_token_an_http_header_cannot_carry_is_refused_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from occupipe.ingest.http import TOKEN_ENV, make_client

    monkeypatch.setenv(TOKEN_ENV, "t\u00f6k")
    with pytest.raises(SourceError, match=f"^{TOKEN_ENV} holds characters"):
        make_client(HttpSettings())


@pytest.mark.parametrize("header", ["soon", "-5", "nan", "inf", "Mon, 99 Foo 2026"])
def test_a_retry_after_that_is_no_delay_falls_back_to_backoff(header: str) -> None:
    response = Fetched(503, httpx.Headers({"Retry-After": header}), b"")
    assert retry_delay(response, 1, HttpSettings(backoff=0.5)) == 1.0


def fetch_with(answer: Any, tmp_path: Path, settings: HttpSettings = FAST) -> Path | Any:
    with httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=True) as client:
        return fetch_record(client, "http://api", "absurdist", tmp_path, settings)


def slow_body() -> Any:
    import time

    for _ in range(50):
        time.sleep(0.02)
        yield b" "


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            lambda request: httpx.Response(302, headers={"Location": str(request.url)}),
            "redirected too many times",
        ),
        (
            lambda request: httpx.Response(
                200, content=b"not gzip", headers={"Content-Encoding": "gzip"}
            ),
            "the body does not decode",
        ),
        (lambda request: httpx.Response(200, content=slow_body()), "took longer than 0.2 s"),
        (lambda request: httpx.Response(304), "answered HTTP 304"),  # nothing was asked
    ],
    ids=["redirect loop", "bad gzip", "trickle", "unrequested 304"],
)
def test_a_record_that_cannot_be_fetched_whole_is_quarantined_with_the_reason(
    tmp_path: Path, answer: Any, reason: str
) -> None:
    settings = HttpSettings(retries=1, backoff=0.01, total_timeout=0.2)
    rejection = fetch_with(answer, tmp_path, settings)
    assert isinstance(rejection, Rejection)
    assert rejection.stage == "fetch" and reason in rejection.reason


def test_an_error_page_served_as_200_is_fetched_again_next_time(tmp_path: Path) -> None:
    bodies = [b"<html>maintenance</html>", (SOULS / "absurdist.json").read_bytes()]
    asked: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match"):
            return httpx.Response(304)
        return httpx.Response(200, content=bodies.pop(0), headers={"ETag": '"v1"'})

    fetch_with(answer, tmp_path)
    fetch_with(answer, tmp_path)
    assert asked == [None, None]  # the HTML page's ETag was not kept
    assert (tmp_path / "absurdist.json").read_bytes().startswith(b"{")


def test_a_full_refresh_asks_for_every_record_unconditionally(tmp_path: Path) -> None:
    api = small_api(tmp_path, 3)
    with serve(api) as server:
        mirror_source(server.base_url, tmp_path / "mirror", FAST)
        server.requests.clear()
        mirror_source(server.base_url, tmp_path / "mirror", FAST, conditional=False)
    record_requests = [h for p, h in server.requests if p.startswith("/souls/")]
    assert len(record_requests) == 3
    assert not any("If-Modified-Since" in h or "If-None-Match" in h for h in record_requests)


def test_an_entry_listed_twice_is_fetched_once_and_bad_entries_are_named(tmp_path: Path) -> None:
    api = small_api(tmp_path, 3)
    index = json.loads((api / "souls.json").read_text())
    extra = [index[0], index[0]["slug"], None, {"noslug": 1}, "bad slug", "absurdist\n"]
    (api / "souls.json").write_text(json.dumps(index + extra))
    with serve(api) as server:
        paths, rejections = mirror_source(server.base_url, tmp_path / "mirror", FAST)
    fetched = [p for p, _ in server.requests if p.startswith("/souls/")]
    assert len(paths) == len(fetched) == 3
    assert sorted(r.reason for r in rejections) == [
        "the index lists 'absurdist\\n', not a slug",
        "the index lists 'bad slug', not a slug",
        "the index lists None, not a slug",  # null, and an object without a slug: once
    ]


@pytest.mark.parametrize(
    ("base", "problem"),
    [("?x=1", "must not carry a query or a fragment"), ("#top", "must not carry a query")],
)
def test_a_base_url_with_a_query_or_fragment_is_refused(
    tmp_path: Path, base: str, problem: str
) -> None:
    with serve(small_api(tmp_path, 1)) as server, pytest.raises(SourceError, match=problem):
        mirror_source(server.base_url + "/" + base, tmp_path / "mirror", FAST)


def test_an_index_that_is_not_json_says_so(tmp_path: Path) -> None:
    api = small_api(tmp_path, 1)
    (api / "souls.json").write_text("<html>moved</html>")
    with serve(api) as server, pytest.raises(SourceError, match=r"the index .* is not JSON$"):
        mirror_source(server.base_url, tmp_path / "mirror", FAST)


def test_when_every_listed_record_fails_the_run_reports_the_quarantine(tmp_path: Path) -> None:
    api = small_api(tmp_path, 0)
    (api / "souls.json").write_text(json.dumps(["nope-a", "nope-b"]))
    with serve(api) as server:
        summary = build(server.base_url, tmp_path / "wh", http=FAST, max_reject_rate=1.0)
    assert (summary.loaded, summary.rejected) == (0, 2)
    assert query(tmp_path / "wh", "select count(*) from quarantine") == [(2,)]


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (
            httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            "the TLS handshake failed",
        ),
        (httpx.ConnectError("[Errno 111] Connection refused"), "could not connect"),
    ],
)
def test_a_connection_failure_says_whether_tls_failed(
    error: httpx.ConnectError, problem: str
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise error

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(FetchFailed, match=f"^{problem} after 3 attempts"),
    ):
        get_with_retries(client, "https://x/y", FAST, sleep=lambda seconds: None)
