"""The docs site in a real headless browser: a screenshot of every page, its charts drawn."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from occupipe.reporting.charts import PALETTE
from tests.reporting.conftest import SCREENSHOTS
from tests.reporting.test_html_report import CHROMIUM, count_colour, read_png_pixels


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


HEADER = rgb("#01665e")  # every page's header band, and the heat map's full cells
# each page: a colour its charts draw, and the fewest pixels of it that show they drew
PAGES = {
    "index.html": (HEADER, 10_000),
    "coverage.html": (HEADER, 60_000),  # header and heat-map cells
    "review.html": (rgb("#fc8d59"), 300),  # draft bars
    "wordcount.html": (rgb("#5ab4ac"), 2_000),  # the histogram's bars
    "graph.html": (rgb("#8c510a"), 1_000),  # degree bars
    "health.html": (rgb(PALETTE[2]), 300),  # published runs per week
    "runs.html": (rgb(PALETTE[0]), 150),  # the records line and its points
    "lineage.html": (rgb("#fdb863"), 20_000),  # the report boxes
    "dictionary.html": (HEADER, 10_000),
    "tests.html": (HEADER, 10_000),
    "quarantine.html": (HEADER, 10_000),
    "model-stats.html": (HEADER, 10_000),
}
PHONE = 390


def screenshot(page: Path, shot: Path, width: int, profile: Path) -> Path:
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
         f"--window-size={width},2400", "--hide-scrollbars", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return shot


@pytest.fixture(scope="module")
def screenshots(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One PNG per page at desktop width, and the index at phone width, two browsers at once."""
    folder = tmp_path_factory.mktemp("docs-site-screenshots")
    jobs = [(name, 1100, folder / name.replace(".html", ".png")) for name in PAGES]
    jobs.append(("index.html", PHONE, folder / f"index-{PHONE}px.png"))
    with ThreadPoolExecutor(2) as pool:
        shots = list(
            pool.map(
                lambda job: screenshot(
                    site_dir / job[0], job[2], job[1], folder / f"p{job[2].stem}"
                ),
                jobs,
            )
        )
    SCREENSHOTS.extend(shots)
    return {shot.name: shot for shot in shots}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_every_page_draws_its_charts(screenshots: dict[str, Path]) -> None:
    for name, (colour, fewest) in PAGES.items():
        width, channels, pixels = read_png_pixels(screenshots[name.replace(".html", ".png")])
        assert width == 1100
        assert count_colour(pixels, channels, colour) >= fewest, name


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_the_index_reflows_at_phone_width(screenshots: dict[str, Path]) -> None:
    width, channels, pixels = read_png_pixels(screenshots[f"index-{PHONE}px.png"])
    assert width == PHONE
    rows = len(pixels) // (width * channels)
    # the header band spans the whole width (nothing wider pushed the layout sideways)
    assert count_colour(pixels, channels, HEADER) >= PHONE * 40
    assert rows == 2400
