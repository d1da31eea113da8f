"""Pick one winner per slug when several inputs claim it; the others become rejections."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from pipelines.batch import RecordKey
from pipelines.extract import Rejection


def find_duplicate_losers(keys: Iterable[RecordKey]) -> dict[int, Rejection]:
    """Map input index -> rejection for every record that lost to another with the same slug.

    The winner is the record with the latest `metadata.updated`; on a tie, the first path.
    """
    by_slug: dict[str, list[RecordKey]] = defaultdict(list)
    for key in keys:
        by_slug[key.slug].append(key)
    losers: dict[int, Rejection] = {}
    for slug, claims in by_slug.items():
        if len(claims) < 2:
            continue
        ranked = sorted(claims, key=lambda k: (-_ordinal(k.updated_on), k.source_file))
        winner = ranked[0]
        for loser in ranked[1:]:
            reason = f"duplicate slug {slug!r}: {winner.source_file} wins (updated later or first)"
            losers[loser.input_index] = Rejection(
                loser.source_file, "dedupe", reason, loser.content_hash
            )
    return losers


def _ordinal(day: dt.date | None) -> int:
    return day.toordinal() if day else 0
