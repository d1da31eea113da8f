"""`occupipe diff`: rows added, removed and changed per table, and per occupation what changed,
between two real builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from occupipe.release.diff import choose_releases, diff_releases
from occupipe.release.store import ReleaseError
from tests.helpers import SOULS, build, copy_records, copy_sample, invoke


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, list[str]]:
    """12 records, then: one removed, one added, one retitled and one with a tag more.
    (warehouse, first release, second release, [removed, added, retitled, retagged] slugs)"""
    folder = tmp_path_factory.mktemp("diff")
    source = copy_sample(folder / "source", 12)
    first = build(source, folder / "w")
    files = sorted(source.glob("*.json"))
    removed, retitled, retagged = files[0], files[1], files[2]
    removed.unlink()
    added = sorted(SOULS.glob("*.json"))[12]
    copy_records(source, [added])
    record = json.loads(retitled.read_text())
    record["title"] = record["metadata"]["title"] = record["title"] + " (retitled)"
    retitled.write_text(json.dumps(record))
    record = json.loads(retagged.read_text())
    record["metadata"]["tags"] = [*record["metadata"]["tags"], "a-tag-added-for-the-diff"]
    retagged.write_text(json.dumps(record))
    second = build(source, folder / "w")
    slugs = [json.loads(p.read_text())["slug"] for p in (added,)]
    names = [json.loads(p.read_text())["slug"] for p in (retitled, retagged)]
    names.insert(0, json.loads((SOULS / removed.name).read_text())["slug"])
    assert first.release_id and second.release_id
    return folder / "w", first.release_id, second.release_id, [names[0], slugs[0], *names[1:]]


def test_the_default_compares_the_current_release_with_the_one_before(
    two_builds: tuple[Path, str, str, list[str]],
) -> None:
    warehouse, first, second, _ = two_builds
    assert choose_releases(warehouse, None, None) == (first, second)


def test_rows_are_counted_added_removed_and_changed_by_key(
    two_builds: tuple[Path, str, str, list[str]],
) -> None:
    warehouse, first, second, (removed, added, _, _) = two_builds
    tables, _ = diff_releases(warehouse, first, second)
    by_table = {t.table: (t.added, t.removed, t.changed) for t in tables}
    # the retitled and the retagged record both changed columns (title, content hash)
    assert by_table["occupations"] == (1, 1, 2)
    tags_of = {json.loads(p.read_text())["slug"]: len(json.loads(p.read_text())["metadata"]["tags"])
               for p in SOULS.glob("*.json")}  # fmt: skip
    # the added record's tags and the one tag added; the removed record's tags
    assert by_table["tags"] == (tags_of[added] + 1, tags_of[removed], 0)


def test_each_occupation_says_what_changed(two_builds: tuple[Path, str, str, list[str]]) -> None:
    warehouse, first, second, (removed, added, retitled, retagged) = two_builds
    _, occupations = diff_releases(warehouse, first, second)
    by_slug = {o.slug: (o.change, o.fields) for o in occupations}
    assert by_slug[added] == ("added", [])
    assert by_slug[removed] == ("removed", [])
    assert by_slug[retitled] == ("changed", ["title", "metadata_title", "content_hash"])
    assert by_slug[retagged] == ("changed", ["content_hash", "tags"])
    assert set(by_slug) == {added, removed, retitled, retagged}


def test_the_cli_prints_the_documented_json(two_builds: tuple[Path, str, str, list[str]]) -> None:
    warehouse, first, second, _ = two_builds
    code, out, err = invoke("diff", "--warehouse", str(warehouse), "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["from"], document["to"]) == (first, second)
    assert {"table", "added", "removed", "changed"} == set(document["tables"][0])
    assert {o["change"] for o in document["occupations"]} == {"added", "removed", "changed"}


def test_the_table_format_names_both_releases_above_the_tables(
    two_builds: tuple[Path, str, str, list[str]],
) -> None:
    warehouse, first, second, _ = two_builds
    code, out, err = invoke("diff", "--warehouse", str(warehouse))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"releases: {first} -> {second}"
    assert lines[1].strip() == "tables" and "occupations" in out


def test_a_release_with_none_before_it_is_one_sentence(
    two_builds: tuple[Path, str, str, list[str]],
) -> None:
    warehouse, first, _, _ = two_builds
    with pytest.raises(ReleaseError, match="has no published release before it"):
        choose_releases(warehouse, None, first)
    code, _, err = invoke("diff", "nope", "--warehouse", str(warehouse))
    assert code == 1 and err.startswith("error: there is no release nope")
