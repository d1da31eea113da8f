"""The static JSON API as a source: fetch the index and every record into a local mirror.

`<base>/souls.json` lists the records; `<base>/souls/<slug>.json` is one record. Records are
fetched with bounded concurrency, timeouts, retries with backoff (connection errors, 5xx,
429 with Retry-After) and conditional requests (ETag / Last-Modified) against the mirror,
so unchanged records are not downloaded again. A record that still fails is quarantined;
an index that cannot be fetched fails the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from occupipe.contract.record import SLUG_PATTERN
from occupipe.core.files import write_bytes_atomically
from occupipe.core.rejection import Rejection, SourceError
from occupipe.core.runs import HttpSettings

TOKEN_ENV = "OCCUPIPE_HTTP_TOKEN"
RETRY_STATUSES = {429, 500, 502, 503, 504}
META_DIR = ".meta"


class FetchFailed(Exception):
    """A URL could not be fetched even after retries."""


@dataclass(frozen=True)
class Fetched:
    """A response read whole: status, headers and body."""

    status_code: int
    headers: httpx.Headers
    content: bytes


def is_http_source(source: str | Path) -> bool:
    return str(source).lower().startswith(("http://", "https://"))


def mirror_name(base_url: str) -> str:
    """A folder name for one base URL's mirror: readable host plus a short hash."""
    parts = urlsplit(base_url)
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:12]
    host = re.sub(r"[^A-Za-z0-9.-]", "_", parts.hostname or "host")
    return f"{host}-{digest}"


def make_client(settings: HttpSettings) -> httpx.Client:
    """An HTTP client with timeouts, and the bearer token from the environment if set."""
    headers = {"User-Agent": "occupipe"}
    token = os.environ.get(TOKEN_ENV)
    if token:
        if not token.isascii() or not token.isprintable():
            raise SourceError(f"{TOKEN_ENV} holds characters an HTTP header cannot carry")
        headers["Authorization"] = f"Bearer {token}"
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    limits = httpx.Limits(max_connections=settings.concurrency)
    return httpx.Client(headers=headers, timeout=timeout, limits=limits, follow_redirects=True)


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; credentials, a query or a fragment in it are
    refused (paths are appended to it)."""
    parts = urlsplit(base_url)
    if parts.username or parts.password:
        raise SourceError(f"credentials in the URL are not accepted; set {TOKEN_ENV} instead")
    if parts.query or parts.fragment:
        raise SourceError(f"the base URL {base_url} must not carry a query or a fragment")
    return base_url.rstrip("/")


def retry_delay(response: Fetched | None, attempt: int, settings: HttpSettings) -> float:
    """Seconds to wait before the next attempt: Retry-After when it is a usable number of
    seconds or date, else backoff."""
    backoff = float(settings.backoff * 2**attempt)
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return backoff
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return backoff
        seconds = max(0.0, seconds)
    if not 0 <= seconds < float("inf"):  # negative, NaN or infinite
        return backoff
    return min(seconds, settings.max_retry_after)


def get_with_retries(
    client: httpx.Client,
    url: str,
    settings: HttpSettings,
    headers: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """GET with retries on connection errors, timeouts, broken bodies, 5xx and 429; what
    retrying cannot mend (a redirect loop, a body that does not decode) fails at once."""
    problem = ""
    for attempt in range(settings.retries + 1):
        response = None
        try:
            response = get_whole(client, url, headers, settings.total_timeout)
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            problem = describe_transport_error(exc)
        except httpx.TooManyRedirects:
            raise FetchFailed("redirected too many times") from None
        except httpx.DecodingError as exc:
            raise FetchFailed(f"the body does not decode as its headers say ({exc})") from None
        except httpx.InvalidURL as exc:
            raise FetchFailed(f"not a valid URL ({exc})") from None
        except TookTooLong:
            limit = settings.total_timeout
            raise FetchFailed(f"the response took longer than {limit:g} s") from None
        if attempt < settings.retries:
            sleep(retry_delay(response, attempt, settings))
    raise FetchFailed(f"{problem} after {settings.retries + 1} attempts")


class TookTooLong(Exception):
    """A response still arriving when its time was up."""


def get_whole(
    client: httpx.Client, url: str, headers: dict[str, str] | None, limit: float
) -> Fetched:
    """GET a URL and read its body, within `limit` seconds in all (the client's timeouts
    bound each wait for bytes, not a body sent a byte at a time)."""
    deadline = time.monotonic() + limit
    with client.stream("GET", url, headers=headers) as response:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TookTooLong
        return Fetched(response.status_code, response.headers, b"".join(chunks))


def describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        # an https URL to a server that speaks plain HTTP fails in the TLS handshake
        return "the TLS handshake failed" if "SSL" in str(exc) else "could not connect"
    return f"connection broke ({type(exc).__name__})"


def fetch_index(client: httpx.Client, base_url: str, settings: HttpSettings) -> list[object]:
    """The entries of `<base>/souls.json`: each a slug, or an object with one (checked later,
    record by record)."""
    url = f"{base_url}/souls.json"
    try:
        response = get_with_retries(client, url, settings)
    except FetchFailed as exc:
        raise SourceError(f"cannot fetch the index {url}: {exc}") from None
    if response.status_code != 200:
        raise SourceError(f"cannot fetch the index {url}: it answered HTTP {response.status_code}")
    try:
        entries = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SourceError(f"the index {url} is not JSON") from None
    if not isinstance(entries, list):
        raise SourceError(f"the index {url} is not a list of records")
    return [e.get("slug") if isinstance(e, dict) else e for e in entries]


def fetch_record(
    client: httpx.Client,
    base_url: str,
    slug: object,
    mirror: Path,
    settings: HttpSettings,
    conditional: bool = True,
) -> Path | Rejection:
    """Bring `<mirror>/<slug>.json` up to date; a record that cannot be fetched is rejected.

    Only a body that is a JSON object is remembered as current (its ETag / Last-Modified kept
    for conditional requests): an error page served with status 200 is fetched again next run.
    """
    if not isinstance(slug, str) or not re.fullmatch(SLUG_PATTERN, slug):
        name = f"{slug}.json" if isinstance(slug, str) else "souls.json"
        return Rejection(name, "fetch", f"the index lists {slug!r}, not a slug", None)
    name = f"{slug}.json"
    url = f"{base_url}/souls/{slug}.json"
    target, meta_path = mirror / name, mirror / META_DIR / f"{slug}.json"
    validators = read_validators(meta_path) if conditional and target.exists() else {}
    try:
        response = get_with_retries(client, url, settings, conditional_headers(validators))
    except FetchFailed as exc:
        return Rejection(name, "fetch", f"GET {url} failed: {exc}", None)
    if response.status_code == 304 and validators:
        return target
    if response.status_code != 200:
        return Rejection(name, "fetch", f"GET {url} answered HTTP {response.status_code}", None)
    meta_path.parent.mkdir(parents=True, exist_ok=True)  # the mirror's folder too
    write_bytes_atomically(target, response.content)
    kept = response_validators(response) if is_json_object(response.content) else {}
    write_bytes_atomically(meta_path, json.dumps(kept).encode())
    return target


def is_json_object(content: bytes) -> bool:
    try:
        return isinstance(orjson.loads(content), dict)
    except orjson.JSONDecodeError:
        return False


def conditional_headers(validators: dict[str, str]) -> dict[str, str]:
    headers = {}
    if "etag" in validators:
        headers["If-None-Match"] = validators["etag"]
    if "last-modified" in validators:
        headers["If-Modified-Since"] = validators["last-modified"]
    return headers


def response_validators(response: Fetched) -> dict[str, str]:
    return {k: response.headers[k] for k in ("etag", "last-modified") if k in response.headers}


def read_validators(meta_path: Path) -> dict[str, str]:
    try:
        data = json.loads(meta_path.read_bytes())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def mirror_source(
    base_url: str, mirror: Path, settings: HttpSettings, conditional: bool = True
) -> tuple[list[Path], list[Rejection]]:
    """Fetch the index and every record it lists into the mirror folder (`conditional`:
    ask only for what changed since the mirrored copy)."""
    base = check_base_url(base_url)
    with make_client(settings) as client:
        entries = fetch_index(client, base, settings)
        unique = list(dict.fromkeys(map(orjson.dumps, entries)))  # an entry listed twice: once
        pool = ThreadPoolExecutor(max_workers=settings.concurrency)
        try:
            outcomes = list(
                pool.map(
                    lambda e: fetch_record(client, base, e, mirror, settings, conditional),
                    map(orjson.loads, unique),
                )
            )
        finally:
            # on Ctrl-C: queued fetches are dropped, and leaving the client's block closes its
            # connections, which ends the fetches under way
            pool.shutdown(wait=False, cancel_futures=True)
    paths = sorted(o for o in outcomes if isinstance(o, Path))
    return paths, [o for o in outcomes if isinstance(o, Rejection)]
