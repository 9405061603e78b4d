"""JSON text without the :mod:`json` package: a reader, and Go's ``encoding/json`` writer.

The command line reads ``state.json`` and prints JSON on every call an engine makes, and
``import json`` pulls in ``re``, ``enum`` and more, several times what the verb itself costs.
So:

- :func:`loads` drives CPython's C scanner (``_json``, what :mod:`json` uses underneath)
  directly; any text it does not accept as is goes through :func:`json.loads`, which then
  gives the exact result or the usual :class:`json.JSONDecodeError` (a ``ValueError``).
- :func:`marshal` and :func:`marshal_indent` write what Go's ``json.Marshal`` and
  ``json.MarshalIndent`` write, byte for byte, which is what tools parsing runc's output
  (and ``runc spec``'s ``config.json``) expect: ``<``, ``>``, ``&``, U+2028 and U+2029
  escaped, control characters as ``\\u00XX`` (Go 1.19 has no ``\\b``/``\\f`` short
  forms), other non-ASCII text as is, floats in Go's shortest form.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["loads", "marshal", "marshal_indent"]

_make_scanner: Any
try:
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - another Python implementation
    _make_scanner = None

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Context:
    """The attributes the C scanner reads (those of :class:`json.JSONDecoder`)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo: dict[str, str] = {}


_SCAN: Any = _make_scanner(_Context()) if _make_scanner is not None else None


def loads(text: str | bytes) -> Any:
    """Parse JSON text (as :func:`json.loads` does, with its errors)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig" if text.startswith(b"\xef\xbb\xbf") else "utf-8")
    if _SCAN is not None:
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _SCAN(text, start)
        except (StopIteration, SystemError, ValueError, RecursionError):
            pass  # json.loads below says what is wrong, precisely
        else:
            if not text[end:].strip(_WHITESPACE):
                return value
    import json

    return json.loads(text)


_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SPECIAL = frozenset('"\\<>&\u2028\u2029')


def _escape_char(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x20 or ch in "<>&\u2028\u2029" or 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch


def _string(text: str) -> str:
    if text.isprintable() and _SPECIAL.isdisjoint(text):
        return f'"{text}"'  # the common case: nothing to escape
    return '"' + "".join(_escape_char(ch) for ch in text) + '"'


def _float(value: float) -> str:
    # Go: strconv 'f' format, shortest, for 1e-6 <= |v| < 1e21; 'e' otherwise (cleaned).
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"JSON has no {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if 1e-6 <= abs(value) < 1e21:
        if "e" in text:  # repr chose an exponent: spell the digits out
            mantissa, exp = text.split("e")
            sign = "-" if mantissa.startswith("-") else ""
            digits = mantissa.lstrip("-").replace(".", "")
            point = mantissa.lstrip("-").find(".")
            position = (point if point >= 0 else len(digits)) + int(exp)
            if position <= 0:
                text = sign + "0." + "0" * -position + digits
            else:
                text = sign + digits[:position] + "." + digits[position:]
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, _, exp = text.partition("e")
    number = int(exp)
    return f"{mantissa}e{'-' if number < 0 else '+'}{abs(number):02d}"


def _encode(value: Any, indent: str | None, depth: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + indent * (depth + 1) if indent is not None else ""
        colon = ": " if indent is not None else ":"
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + inner + _string(str(key)) + colon)
            _encode(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "}" if indent is not None else "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = "\n" + indent * (depth + 1) if indent is not None else ""
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + inner)
            _encode(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "]" if indent is not None else "]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def marshal(value: Any) -> str:
    """Go's ``json.Marshal`` of JSON-ready data (dicts keep their order)."""
    out: list[str] = []
    _encode(value, None, 0, out)
    return "".join(out)


def marshal_indent(value: Any, indent: str = "\t") -> str:
    """Go's ``json.MarshalIndent(v, "", indent)`` of JSON-ready data."""
    out: list[str] = []
    _encode(value, indent, 0, out)
    return "".join(out)
