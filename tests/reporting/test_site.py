"""The docs site a release carries: static, escaped, every link resolving, figures equal to the
stats report, verified with its release; and `occupipe docs`, which writes it anywhere."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from occupipe.core.layout import SITE_DIR
from occupipe.core.runs import RunSummary
from occupipe.release.catalog import rollback
from occupipe.release.store import current_release
from occupipe.release.verify import verify_release
from occupipe.reporting.pages import NAVIGATION
from pipelines.cli import app
from tests.reporting.conftest import HOSTILE


def pages_of(site: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(site.glob("*.html"))}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_release_carries_every_page(site_dir: Path) -> None:
    pages = pages_of(site_dir)
    assert {name for name, _ in NAVIGATION} <= set(pages)
    assert "model-stats.html" in pages and "model-stg_tags.html" in pages
    assert (site_dir.parent / "report.html").is_file()  # the one-page report stays


def test_pages_are_static_and_fit_a_phone(site_dir: Path) -> None:
    for name, page in pages_of(site_dir).items():
        assert "<script" not in page.lower(), name
        assert not re.search(r"\ssrc=|url\(|@import|<link|<iframe|<object", page), name
        assert '<meta name="viewport" content="width=device-width' in page, name
        assert page.count("<svg") == page.count('viewBox="'), name
    assert "max-width:100%" in pages_of(site_dir)["index.html"]
    assert ".scroll{overflow-x:auto" in pages_of(site_dir)["index.html"]


def test_every_feed_string_is_escaped(site_dir: Path) -> None:
    pages = pages_of(site_dir)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#x27;"
    for name, page in pages.items():
        assert "alert(1)</script>" not in page, name
    assert escaped in pages["tests.html"]  # the title's sample row of a warning test
    assert escaped in pages["review.html"] or escaped in pages["wordcount.html"]
    assert "broken.json" in pages["quarantine.html"]
    assert "1 input was quarantined by this run." in pages["quarantine.html"]


def test_every_link_resolves(site_dir: Path) -> None:
    pages = pages_of(site_dir)
    ids = {name: set(re.findall(r' id="([^"]+)"', page)) for name, page in pages.items()}
    checked = 0
    for name, page in pages.items():
        for href in re.findall(r'href="([^"]*)"', page):
            assert "://" not in href and not href.startswith("/"), (name, href)
            target, _, anchor = href.partition("#")
            target = target or name
            assert (site_dir / target).is_file(), (name, href)
            assert not anchor or anchor in ids[target], (name, href)
            checked += 1
    assert checked > 500


def stat_figures(pages: dict[str, str]) -> list[tuple[str, str, str]]:
    """(page, stats field, shown value) of every figure a page marks as a stats field."""
    return [
        (name, field, value)
        for name, page in pages.items()
        for field, value in re.findall(r'data-stat="([^"]+)">([^<]*)<', page)
    ]


def stats_field(stats: dict[str, Any], path: str) -> Any:
    value: Any = stats
    for part in path.split("."):
        value = value[part]
    return value


def check_figures(warehouse: Path, site: Path) -> int:
    code, out, err = invoke("report", "stats", "--warehouse", str(warehouse))
    assert code == 0, err
    stats = json.loads(out)
    figures = stat_figures(pages_of(site))
    for page, field, shown in figures:
        expected = stats_field(stats, field)
        if isinstance(expected, str):
            assert shown == expected, (page, field)
        else:
            assert float(shown.replace(",", "")) == expected, (page, field, shown)
    return len(figures)


def test_the_figures_on_the_pages_equal_the_stats_report(docs_warehouse: Path) -> None:
    figures = check_figures(docs_warehouse, docs_warehouse / "current" / SITE_DIR)
    assert figures >= 20  # the index's totals, and figures on the group pages


def test_on_the_real_sample_too(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    warehouse = corpus_warehouse[0]
    assert check_figures(warehouse, warehouse / "current" / SITE_DIR) >= 20


def test_the_site_is_verified_with_its_release_and_rolls_back_with_it(
    docs_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = Path(shutil.copytree(docs_warehouse, tmp_path / "wh", symlinks=True))
    newest = current_release(warehouse)
    assert newest is not None
    result = verify_release(warehouse, newest)
    assert result.intact and result.checked > 60  # the site's pages are in the manifest
    previous, _ = rollback(warehouse)[::-1]
    assert current_release(warehouse) == previous
    assert verify_release(warehouse, previous).intact
    assert (warehouse / "current" / SITE_DIR / "index.html").is_file()
    page = warehouse / "releases" / newest / SITE_DIR / "index.html"
    page.chmod(0o644)
    page.write_text("<p>edited</p>")
    assert [p.name for p in verify_release(warehouse, newest).problems] == [
        f"{SITE_DIR}/index.html"
    ]


def test_occupipe_docs_writes_the_site_of_a_release(docs_warehouse: Path, tmp_path: Path) -> None:
    code, out, err = invoke(
        "docs", "--out", str(tmp_path / "site"), "--warehouse", str(docs_warehouse)
    )
    assert code == 0, err
    assert "index.html" in out
    written = pages_of(tmp_path / "site")
    assert set(written) == set(pages_of(docs_warehouse / "current" / SITE_DIR))
    first = sorted((docs_warehouse / "releases").iterdir())[0].name
    code, _, err = invoke(
        "docs", "--out", str(tmp_path / "old"), "--release", first,
        "--warehouse", str(docs_warehouse),
    )  # fmt: skip
    assert code == 0, err
    assert f"release {first}" in (tmp_path / "old" / "index.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--release", "no-such-release"], "has no warehouse file"),
        (["--out", "FILE"], "is a file"),
    ],
)
def test_occupipe_docs_refuses_in_one_sentence(
    docs_warehouse: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "FILE").write_text("")
    args = [str(tmp_path / a) if a == "FILE" else a for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "site")]
    code, _, err = invoke("docs", *out, *args, "--warehouse", str(docs_warehouse))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_occupipe_docs_without_a_warehouse_says_so(tmp_path: Path) -> None:
    code, _, err = invoke("docs", "--out", str(tmp_path / "s"), "--warehouse", str(tmp_path / "no"))
    assert code == 2 and "no warehouse at" in err


def test_hostile_text_is_what_the_fixture_feeds() -> None:
    assert "<script>" in HOSTILE  # the escaping tests above are tests of something
