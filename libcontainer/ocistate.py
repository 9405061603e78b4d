"""The OCI runtime state (what ``runc state`` prints and what hooks read on stdin)."""

from __future__ import annotations

from libcontainer.jsontext import marshal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

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
    """The specs.State JSON runc passes to hooks, from the config's labels."""
    bundle, annotations = bundle_and_annotations(labels)
    return state_json(container_id, status, pid, bundle, annotations, version)


def state_json(
    container_id: str,
    status: str,
    pid: int,
    bundle: str,
    annotations: Mapping[str, str],
    version: str = "",
) -> str:
    """The specs.State JSON runc passes to hooks (and seccomp agents)."""
    state: dict[str, object] = {
        "ociVersion": version or OCI_VERSION,
        "id": container_id,
        "status": status,
        "pid": pid,
        "bundle": bundle,
    }
    if annotations:
        state["annotations"] = dict(annotations)
    return marshal(state)  # Go's json.Marshal, as runc hands it to hooks
