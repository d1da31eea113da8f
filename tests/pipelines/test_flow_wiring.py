"""How the flow groups batches into Prefect tasks (pure functions: no Prefect server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.flows import MAX_BATCH_TASKS, group_name, split_evenly
from pipelines.prefect_setup import PROJECT_DIR


@pytest.mark.parametrize("count", [0, 1, 5, 31, 32, 33, 200, 1001])
def test_batches_split_into_at_most_the_task_limit_of_contiguous_groups(count: int) -> None:
    groups = split_evenly(count, MAX_BATCH_TASKS)
    assert len(groups) <= MAX_BATCH_TASKS
    assert [i for group in groups for i in group] == list(range(count))
    sizes = [len(group) for group in groups]
    assert max(sizes, default=0) - min(sizes, default=0) <= 1
    assert len(groups) == min(count, MAX_BATCH_TASKS)


@pytest.mark.parametrize(
    ("group", "expected"),
    [(range(3, 4), "extract-batch-3"), (range(7, 14), "extract-batch-7-13")],
)
def test_a_group_of_batches_is_named_after_its_first_and_last(group: range, expected: str) -> None:
    names = [f"extract-batch-{n}" for n in range(20)]
    assert group_name(names, group) == expected


def test_importing_the_flows_imports_what_a_first_flow_call_would_import_lazily() -> None:
    # `occupipe run` imports pipelines.flows while Prefect's server boots; whatever Prefect
    # imports on its first flow call instead is paid inside the run
    code = (
        "import sys, pipelines.flows; "
        "print(' '.join(m for m in ('prefect.flow_engine', 'prefect.task_engine', 'graphviz', "
        "'fastapi.encoders') if m not in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=PROJECT_DIR,
    )
    assert done.stdout.strip() == ""
