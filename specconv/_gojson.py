"""JSON text exactly as Go's ``json.MarshalIndent(v, "", "\\t")`` writes it.

``runc spec`` writes ``config.json`` that way, so byte-for-byte comparable output needs Go's
string escaping: ``<``, ``>`` and ``&`` become ``\\u003c``/``\\u003e``/``\\u0026``, control
characters other than ``\\n``, ``\\r`` and ``\\t`` become ``\\u00XX`` (Go 1.19, which built
runc 1.1.5, has no ``\\b``/``\\f`` short forms), U+2028/U+2029 are escaped, and other
non-ASCII text is written as is. Dicts keep their order: the caller sorts map keys.
"""

from __future__ import annotations

from typing import Any

__all__ = ["go_marshal_indent"]

_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x20 or ch in "<>&\u2028\u2029" or 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch


def _string(text: str) -> str:
    return '"' + "".join(_escape_char(ch) for ch in text) + '"'


def _encode(value: Any, indent: str, depth: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + indent * (depth + 1)
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + inner + _string(str(key)) + ": ")
            _encode(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = "\n" + indent * (depth + 1)
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + inner)
            _encode(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def go_marshal_indent(value: Any, indent: str = "\t") -> str:
    """Encode JSON-ready data (dicts, lists, str, int, bool, None) like Go's MarshalIndent."""
    out: list[str] = []
    _encode(value, indent, 0, out)
    return "".join(out)
