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

from pipelines.contract import SLUG_PATTERN
from pipelines.extract import Rejection, SourceError

TOKEN_ENV = "OCCUPIPE_HTTP_TOKEN"
RETRY_STATUSES = {429, 500, 502, 503, 504}
META_DIR = ".meta"


@dataclass(frozen=True)
class HttpSettings:
    concurrency: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    retries: int = 4
    backoff: float = 0.5  # seconds, doubled at each retry
    max_retry_after: float = 60.0


class FetchFailed(Exception):
    """A URL could not be fetched even after retries."""


def is_http_source(source: str | Path) -> bool:
    return str(source).startswith(("http://", "https://"))


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
    """The base URL without a trailing slash; credentials in it are refused."""
    parts = urlsplit(base_url)
    if parts.username or parts.password:
        raise SourceError(f"credentials in the URL are not accepted; set {TOKEN_ENV} instead")
    return base_url.rstrip("/")


def retry_delay(response: httpx.Response | None, attempt: int, settings: HttpSettings) -> float:
    """Seconds to wait before the next attempt: Retry-After when given, else backoff."""
    header = response.headers.get("Retry-After") if response is not None else None
    if header:
        try:
            return min(float(header), settings.max_retry_after)
        except ValueError:
            moment = parsedate_to_datetime(header)
            return min(max(0.0, moment.timestamp() - time.time()), settings.max_retry_after)
    return float(settings.backoff * 2**attempt)


def get_with_retries(
    client: httpx.Client,
    url: str,
    settings: HttpSettings,
    headers: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """GET with retries on connection errors, timeouts, broken bodies, 5xx and 429."""
    problem = ""
    for attempt in range(settings.retries + 1):
        response = None
        try:
            response = client.get(url, headers=headers)
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            problem = describe_transport_error(exc)
        if attempt < settings.retries:
            sleep(retry_delay(response, attempt, settings))
    raise FetchFailed(f"{problem} after {settings.retries + 1} attempts")


def describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"connection broke ({type(exc).__name__})"


def fetch_index(client: httpx.Client, base_url: str, settings: HttpSettings) -> list[str]:
    """The slugs listed by `<base>/souls.json` (objects with a slug, or bare strings)."""
    url = f"{base_url}/souls.json"
    try:
        response = get_with_retries(client, url, settings)
        response.raise_for_status()
        entries = json.loads(response.content)
    except (FetchFailed, httpx.HTTPStatusError, ValueError) as exc:
        raise SourceError(f"cannot fetch the index {url}: {exc}") from None
    if not isinstance(entries, list):
        raise SourceError(f"the index {url} is not a list of records")
    return [str(e.get("slug") if isinstance(e, dict) else e) for e in entries]


def fetch_record(
    client: httpx.Client, base_url: str, slug: str, mirror: Path, settings: HttpSettings
) -> Path | Rejection:
    """Bring `<mirror>/<slug>.json` up to date; a record that cannot be fetched is rejected."""
    name = f"{slug}.json"
    if not re.match(SLUG_PATTERN, slug):
        return Rejection(name, "fetch", f"the index lists an invalid slug {slug!r}", None)
    url = f"{base_url}/souls/{slug}.json"
    target, meta_path = mirror / name, mirror / META_DIR / f"{slug}.json"
    validators = read_validators(meta_path) if target.exists() else {}
    try:
        response = get_with_retries(client, url, settings, conditional_headers(validators))
    except FetchFailed as exc:
        return Rejection(name, "fetch", f"GET {url} failed: {exc}", None)
    if response.status_code == 304:
        return target
    if response.status_code != 200:
        return Rejection(name, "fetch", f"GET {url} answered HTTP {response.status_code}", None)
    write_atomically(target, response.content)
    write_atomically(meta_path, json.dumps(dict(response_validators(response))).encode())
    return target


def conditional_headers(validators: dict[str, str]) -> dict[str, str]:
    headers = {}
    if "etag" in validators:
        headers["If-None-Match"] = validators["etag"]
    if "last-modified" in validators:
        headers["If-Modified-Since"] = validators["last-modified"]
    return headers


def response_validators(response: httpx.Response) -> dict[str, str]:
    return {k: response.headers[k] for k in ("etag", "last-modified") if k in response.headers}


def read_validators(meta_path: Path) -> dict[str, str]:
    try:
        data = json.loads(meta_path.read_bytes())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def mirror_source(
    base_url: str, mirror: Path, settings: HttpSettings
) -> tuple[list[Path], list[Rejection]]:
    """Fetch the index and every record it lists into the mirror folder."""
    base = check_base_url(base_url)
    with make_client(settings) as client:
        slugs = fetch_index(client, base, settings)
        with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
            outcomes = list(
                pool.map(lambda s: fetch_record(client, base, s, mirror, settings), slugs)
            )
    paths = sorted(set(o for o in outcomes if isinstance(o, Path)))  # a slug listed twice: once
    return paths, [o for o in outcomes if isinstance(o, Rejection)]
