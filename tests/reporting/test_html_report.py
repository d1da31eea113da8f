"""The HTML report: self-contained, every chart present, and drawn by a real browser."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest

from occupipe.core.runs import RunSummary
from occupipe.reporting.charts import STATUS_COLOURS
from occupipe.reporting.html import render_report

CHROMIUM = shutil.which("chromium")
TEAL, DRAFT_ORANGE, DEGREE_BROWN = (1, 102, 94), (252, 141, 89), (140, 81, 10)
WORDS_TEAL = (90, 180, 172)
HEAT_CELL = re.compile(r"<title>([^<,]+), ([^<:]+): (\d+)%</title>")  # charts.heat_map's tips
REVIEW_BAR = re.compile(
    r"<title>([^<,]+), (" + "|".join(STATUS_COLOURS) + r"): (\d+)</title>"
)  # charts.hbar_chart's tips: "provenance, status: records"
RECORDS_POINT = re.compile(r'<circle class="mark"[^>]*><title>([^<]+), records: (\d+)</title>')


@pytest.fixture(scope="module")
def page(corpus_warehouse: tuple[Path, RunSummary]) -> str:
    with duckdb.connect(str(corpus_warehouse[0] / "occupations.duckdb"), read_only=True) as con:
        return render_report(con)


def test_the_report_is_self_contained(page: str) -> None:
    assert "<script" not in page
    assert not re.search(r'(src|href)="', page)  # nothing to fetch: no network needed
    assert page.count("<svg") == 5  # heat map, review bars, word counts, degrees, runs
    assert "182 records, " in page and " verified. Generated " in page  # the headline


def test_the_heat_map_has_a_cell_per_category_and_section(page: str) -> None:
    cells = HEAT_CELL.findall(page)
    assert len(cells) == 21 * 20
    assert len({(c, s) for c, s, _ in cells}) == 21 * 20  # each pair once
    assert len({c for c, _, _ in cells}) == 21 and len({s for _, s, _ in cells}) == 20
    assert all(0 <= int(share) <= 100 for _, _, share in cells)
    assert ("Agriculture", "Purpose", "100") in cells


def test_the_review_bars_stack_every_status_of_every_provenance(page: str) -> None:
    bars = REVIEW_BAR.findall(page)
    assert {p for p, _, _ in bars} == {"ai-assisted", "ai-generated", "human"}
    assert len(bars) == 3 * len(STATUS_COLOURS)  # a segment per status, empty ones at width 0
    assert sum(int(n) for _, _, n in bars) == 182  # every record in one segment


def test_each_release_carries_its_report(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    report = corpus_warehouse[0] / "current" / "report.html"
    assert report.read_text().count("<svg") == 5


def test_records_over_runs_has_a_point_per_published_run(page: str, two_releases: Path) -> None:
    assert [n for _, n in RECORDS_POINT.findall(page)] == ["182"]  # one run: one point
    with duckdb.connect(str(two_releases / "occupations.duckdb"), read_only=True) as con:
        later = render_report(con)
    assert [n for _, n in RECORDS_POINT.findall(later)] == ["30", "31"]  # in run order
    chart = later[later.index('aria-label="records over runs"') :]
    assert chart.count("<polyline") == 2  # records and quarantined, joined run to run


def read_png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Decode an 8-bit RGBA or RGB, non-interlaced PNG (what Chromium writes) to raw RGB(A)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, b""
    width = height = channels = 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            chunks += body
        offset += 12 + length
    raw, stride = zlib.decompress(chunks), width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        if kind in (0, 1, 2):  # most of Chromium's rows: whole-row arithmetic, not per byte
            line = unfilter_row(kind, line, previous, channels)
        for i in range(stride if kind in (3, 4) else 0):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                best = min(
                    (abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner)
                )
                line[i] = (line[i] + best[2]) & 255
        rows.append(bytes(line))
        previous = line
    return width, channels, b"".join(rows)


def add_bytes(a: int, b: int, low: int, high: int) -> int:
    """Bytewise sums modulo 256 of two rows held as little-endian integers (no carry between
    bytes): `low` has 0x7f in every byte, `high` 0x80."""
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def unfilter_row(kind: int, line: bytearray, previous: bytearray, channels: int) -> bytearray:
    """Undo a PNG row's filter None (0), Sub (1) or Up (2) on the whole row at once."""
    if kind == 0:
        return line
    size = len(line)
    low, high = int.from_bytes(b"\x7f" * size, "little"), int.from_bytes(b"\x80" * size, "little")
    mask, value = (1 << (8 * size)) - 1, int.from_bytes(line, "little")
    if kind == 2:
        value = add_bytes(value, int.from_bytes(previous, "little"), low, high)
    else:  # Sub: a running sum per channel, by doubling offsets (a prefix scan)
        offset = channels
        while offset < size:
            value = add_bytes(value, (value << (8 * offset)) & mask, low, high)
            offset *= 2
    return bytearray(value.to_bytes(size, "little"))


def count_colour(pixels: bytes, channels: int, colour: tuple[int, int, int]) -> int:
    """Pixels of exactly `colour`: each channel's bytes mapped to 1 where they match, the three
    ANDed as integers, the bits counted."""
    matches = -1
    for channel, value in enumerate(colour):
        table = bytes(int(v == value) for v in range(256))
        matches &= int.from_bytes(pixels[channel::channels].translate(table), "little")
    return matches.bit_count()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_a_real_browser_draws_the_charts(page: str, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(page)
    shot = tmp_path / "report.png"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1000,2200", "--hide-scrollbars", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    width, channels, pixels = read_png_pixels(shot)
    assert width == 1000
    assert count_colour(pixels, channels, TEAL) > 100_000  # the heat map's full cells (of 420)
    assert count_colour(pixels, channels, DRAFT_ORANGE) > 1_000  # draft bars
    assert count_colour(pixels, channels, WORDS_TEAL) > 1_000  # word-count bars
    assert count_colour(pixels, channels, DEGREE_BROWN) > 1_000  # degree bars
