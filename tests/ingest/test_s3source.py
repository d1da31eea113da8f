"""An S3 prefix as a source: folder semantics, change stamps, and its failures as sentences."""

from __future__ import annotations

import uuid

import pytest
import s3fs

from occupipe.core.objectstore import ObjectStoreError, split_s3_uri
from occupipe.ingest.s3source import etag_stamp, fetch_objects, list_source_objects
from tests.servers import FlakyProxy, S3Server


def put(server: S3Server, files: dict[str, bytes]) -> str:
    """Upload `files` under a fresh prefix; the prefix's URI."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.pipe({f"{server.bucket}/{prefix}/{name}": data for name, data in files.items()})
    return server.uri(prefix)


def test_listing_finds_record_objects_at_any_depth_and_counts_the_rest(
    s3_server: S3Server,
) -> None:
    uri = put(
        s3_server,
        {
            "a.json": b"{}",
            "deep/er/b.jsonl": b"{}\n",
            "c.NDJSON": b"{}\n",
            "notes.txt": b"x",
            ".hidden/d.json": b"{}",
            "deep/.e.json": b"{}",
        },
    )
    listing = list_source_objects(uri)
    assert [name.removeprefix(uri + "/") for name in listing.records] == [
        "a.json",
        "c.NDJSON",
        "deep/er/b.jsonl",
    ]
    assert listing.root == uri
    assert listing.sizes.to_pylist() == [2, 3, 3]
    assert [name.removeprefix(uri + "/") for name in listing.ignored] == ["notes.txt"]


def test_an_object_rewritten_with_other_bytes_gets_a_new_stamp(s3_server: S3Server) -> None:
    uri = put(s3_server, {"a.json": b'{"v": 1}'})
    before = list_source_objects(uri).stamps.to_pylist()
    s3fs.S3FileSystem(skip_instance_cache=True).pipe(uri + "/a.json", b'{"v": 2}')
    after = list_source_objects(uri).stamps.to_pylist()
    assert before != after
    assert etag_stamp('"abc"') == etag_stamp("abc") >= 0


def test_fetching_returns_each_objects_bytes(s3_server: S3Server) -> None:
    uri = put(s3_server, {f"r{n}.json": b'{"n": %d}' % n for n in range(25)})
    records = list_source_objects(uri).records
    fetched = fetch_objects(records)
    assert len(fetched) == 25
    for record in records:
        number = int(record.rsplit("/r", 1)[1].removesuffix(".json"))
        assert fetched[record] == b'{"n": %d}' % number


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://no-such-bucket/x", "the bucket of s3://no-such-bucket/x does not exist at http://"),
        (
            "s3://occupipe/no-such-prefix",
            "s3://occupipe/no-such-prefix holds no objects at http://",
        ),
    ],
)
def test_a_missing_bucket_or_prefix_is_one_sentence(
    s3_server: S3Server, uri: str, expected: str
) -> None:
    with pytest.raises(ObjectStoreError) as raised:
        list_source_objects(uri)
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


def test_wrong_credentials_are_one_sentence_without_the_secret(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = put(s3_server, {"a.json": b"{}"})
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ObjectStoreError) as raised:
        list_source_objects(uri)
    message = str(raised.value)
    assert message.startswith(f"access to {uri} was denied")
    assert "not-the-secret" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("s3://key:secret@bucket/prefix", "credentials do not belong in the URI"),
        ("s3:///prefix", "names no bucket"),
    ],
)
def test_a_uri_with_credentials_or_without_a_bucket_is_refused(uri: str, problem: str) -> None:
    with pytest.raises(ObjectStoreError) as raised:
        split_s3_uri(uri)
    assert problem in str(raised.value)
    assert "secret" not in str(raised.value)


def test_throttled_requests_are_retried_with_backoff(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = put(s3_server, {"a.json": b"{}", "b.json": b"[]"})
    proxy = FlakyProxy(s3_server.endpoint, failures=2)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        listing = list_source_objects(uri)
        fetched = fetch_objects(listing.records)
    finally:
        proxy.stop()
    assert sorted(fetched.values()) == [b"[]", b"{}"]
    assert proxy.seen >= 2 + 2  # the two refused requests, then the listing and the fetches
