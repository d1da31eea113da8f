"""Apply occupipe's automation files (automations/) to the server PREFECT_API_URL names."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml

from pipelines.prefect_setup import PROJECT_DIR

GATE_FAILED = PROJECT_DIR / "automations" / "gate-failed.yaml"


def read_automation(path: Path) -> dict[str, Any]:
    """The automation a file defines, as written."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "trigger" not in data or "actions" not in data:
        raise ValueError(f"{path} does not define an automation (name, trigger, actions)")
    return data


def resolve_blocks(data: dict[str, Any], block_ids: dict[str, UUID]) -> dict[str, Any]:
    """The automation with each action's `block: TYPE/NAME` replaced by its block document id."""
    actions = []
    for action in data["actions"]:
        action = dict(action)
        slug = action.pop("block", None)
        if slug is not None:
            action["block_document_id"] = str(block_ids[slug])
        actions.append(action)
    return {**data, "actions": actions}


def block_slugs(data: dict[str, Any]) -> list[str]:
    """The blocks (TYPE/NAME) the automation's actions name."""
    return [action["block"] for action in data["actions"] if "block" in action]


def apply_automation(path: Path) -> UUID:
    """Create the automation a file defines, replacing any of the same name (so applying it
    again changes nothing); its id."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    data = read_automation(path)
    with get_client(sync_client=True) as client:
        block_ids = {
            slug: client.read_block_document_by_name(
                slug.split("/", 1)[1], block_type_slug=slug.split("/", 1)[0]
            ).id
            for slug in block_slugs(data)
        }
        automation = AutomationCore.model_validate(resolve_blocks(data, block_ids))
        for existing in client.read_automations_by_name(automation.name):
            client.delete_automation(existing.id)
        return client.create_automation(automation)


def main(argv: list[str]) -> int:
    """`python -m pipelines.automations [FILE...]` (default: the gate-failed automation)."""
    for name in argv or [str(GATE_FAILED)]:
        automation_id = apply_automation(Path(name))
        print(f"applied {name}: automation {automation_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
