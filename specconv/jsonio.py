"""Reading and writing ``config.json``: :func:`load_spec`, :func:`parse_spec`, :func:`dump_spec`;
and a process object alone: :func:`parse_process`.

The models are imported where they are used: :func:`parse_process` builds only the process
models (:mod:`specconv.spec_process`), not the whole spec's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from libcontainer.errors import ConfigError
from libcontainer.jsontext import marshal_indent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from specconv.spec import Spec
    from specconv.spec_process import Process

__all__ = [
    "CONFIG_FILENAME",
    "dump_spec",
    "load_spec",
    "parse_process",
    "parse_spec",
    "spec_to_dict",
]

CONFIG_FILENAME = "config.json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str | bytes | bytearray) -> Any:
    if isinstance(text, bytes | bytearray):
        # Go's encoding/json replaces invalid UTF-8 with U+FFFD rather than failing.
        text = bytes(text).decode("utf-8", errors="replace")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"config.json is not valid JSON: {exc}") from None


def parse_spec(source: str | bytes | bytearray | Mapping[str, Any]) -> Spec:
    """Build a :class:`~specconv.spec.Spec` from JSON text or already-decoded JSON data.

    ``source`` that is not text is taken as decoded JSON (what ``json.load`` returns).
    Unknown keys are ignored and ``null`` members count as absent; a value of the wrong type
    raises :class:`~libcontainer.errors.ConfigError` naming its JSON path.
    """
    data = _decode(source) if isinstance(source, str | bytes | bytearray) else source
    if not isinstance(data, Mapping):
        raise ConfigError("config.json must hold a JSON object", value=type(data).__name__)
    from specconv._codec import structure  # cattrs loads on first use
    from specconv.spec import Spec

    return structure(data, Spec)


def parse_process(data: Any) -> Process:
    """Build the ``process`` model of a spec from decoded JSON holding that object alone.

    What ``runc exec --process process.json`` reads. The result, its checks and its errors
    are those of ``parse_spec({"process": data}).process`` (error paths start at
    ``process``), but only the process models are built: :func:`process_args` takes it.
    """
    if data is None:
        raise ConfigError("the spec has no process to run", field="process")
    from specconv._codec import structure
    from specconv.spec_process import Process

    return structure(data, Process, root="process")


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read a spec from a ``config.json`` file, or from the ``config.json`` of a bundle dir."""
    target = os.fspath(path)
    if os.path.isdir(target):
        target = os.path.join(target, CONFIG_FILENAME)
    with open(target, "rb") as fh:
        return parse_spec(fh.read())


def spec_to_dict(spec: Spec) -> dict[str, Any]:
    """The JSON-ready form of a spec: camelCase keys, empty ``omitempty`` fields left out."""
    from specconv._codec import unstructure

    data = unstructure(spec)
    assert isinstance(data, dict)
    return data


def dump_spec(spec: Spec) -> str:
    """JSON text of a spec exactly as ``runc spec`` writes it (tab-indented, no final newline)."""
    return marshal_indent(spec_to_dict(spec))
