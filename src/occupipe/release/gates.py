"""Quality gates that decide whether a finished build may be published."""

from __future__ import annotations

from collections.abc import Sequence

from occupipe.core.rejection import Rejection


def check_reject_rate(
    documents: int, rejections: Sequence[Rejection], max_rate: float, strict: bool
) -> str | None:
    """Why the share of quarantined documents blocks publishing, or None when it does not."""
    rejected = len(rejections)
    if not rejected:
        return None
    first = rejections[0]
    example = f"first: {first.source_file} [{first.stage}] {first.reason}"
    if strict:
        return f"{rejected} input(s) were quarantined and --strict allows none ({example})"
    rate = rejected / documents if documents else 1.0
    if rate > max_rate:
        return (
            f"{rejected} of {documents} inputs ({rate:.1%}) were quarantined, above the"
            f" --max-reject-rate of {max_rate:.1%} ({example})"
        )
    return None


def check_volume(
    previous: int | None, records: int, max_shrink: float, allow_shrink: bool
) -> str | None:
    """Why the record count dropped too far against the current release, or None."""
    if previous is None or previous == 0 or allow_shrink:
        return None
    shrink = (previous - records) / previous
    if shrink > max_shrink:
        return (
            f"records would drop from {previous} to {records} ({shrink:.1%}), more than the"
            f" --max-shrink of {max_shrink:.0%}; use --allow-shrink if this is intended"
        )
    return None


def check_schema(
    previous: dict[str, dict[str, str]], current: dict[str, dict[str, str]], allow_change: bool
) -> str | None:
    """Why published tables would lose or retype a column, or None (added columns are fine)."""
    if allow_change:
        return None
    problems = []
    for table, columns in sorted(previous.items()):
        new = current.get(table)
        if new is None:
            problems.append(f"table {table} removed")
            continue
        for column, type_ in columns.items():
            if column not in new:
                problems.append(f"{table}.{column} removed")
            elif new[column] != type_:
                problems.append(f"{table}.{column} retyped from {type_} to {new[column]}")
    if not problems:
        return None
    return f"schema change in published tables: {', '.join(problems)}; use --allow-schema-change"
