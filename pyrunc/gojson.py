"""JSON text as Go's ``encoding/json`` writes it (what tools parsing runc's output expect).

Go escapes ``<``, ``>``, ``&``, U+2028 and U+2029 inside strings and writes other non-ASCII
text as is. Those characters can only occur inside JSON strings, so replacing them in
Python's output is exact.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps"]

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def dumps(value: Any, indent: str | None = None) -> str:
    """``json.Marshal`` (compact) or ``json.MarshalIndent(v, "", indent)``."""
    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent)
    if any(ch in text for ch in _ESCAPES):
        text = "".join(_ESCAPES.get(ch, ch) for ch in text)
    return text
