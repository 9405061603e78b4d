"""The OCI runtime state (what ``runc state`` prints and what hooks read on stdin)."""

from __future__ import annotations

import json
from collections.abc import Sequence

OCI_VERSION = "1.0.2-dev"


def bundle_and_annotations(labels: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Split runc's config labels (``bundle=/path`` and ``key=value`` annotations)."""
    bundle = ""
    annotations: dict[str, str] = {}
    for label in labels:
        key, sep, value = label.partition("=")
        if not sep:
            continue
        if key == "bundle":
            bundle = value
        else:
            annotations[key] = value
    return bundle, annotations


def hook_state(
    container_id: str, status: str, pid: int, labels: Sequence[str], version: str = ""
) -> str:
    """The specs.State JSON runc passes to hooks."""
    bundle, annotations = bundle_and_annotations(labels)
    state: dict[str, object] = {
        "ociVersion": version or OCI_VERSION,
        "id": container_id,
        "status": status,
        "pid": pid,
        "bundle": bundle,
    }
    if annotations:
        state["annotations"] = annotations
    return json.dumps(state)
