"""Quality gates that decide whether a finished build may be published."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.extract import Rejection

DEFAULT_MAX_REJECT_RATE = 0.05


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
