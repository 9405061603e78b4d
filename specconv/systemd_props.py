"""Extra systemd unit properties from ``org.systemd.property.<Name>`` annotations.

runc parses each value as a D-Bus variant in GVariant text form (``godbus`` ``ParseVariant``)
and turns ``<name>Sec`` into ``<name>USec`` in microseconds. This module understands the part
of that syntax such annotations use: booleans, integers and doubles (bare or with a type
keyword such as ``uint64`` or an ``@t`` annotation), quoted strings, and arrays of those.
A property is returned as ``(name, (signature, value))``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from libcontainer.errors import ConfigError

__all__ = ["PROPERTY_PREFIX", "parse_variant", "systemd_properties"]

PROPERTY_PREFIX = "org.systemd.property."

_INT_RANGES = {
    "y": (0, 2**8 - 1),
    "n": (-(2**15), 2**15 - 1),
    "q": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "u": (0, 2**32 - 1),
    "x": (-(2**63), 2**63 - 1),
    "t": (0, 2**64 - 1),
    "h": (0, 2**32 - 1),
}
_KEYWORDS = {
    "byte": "y",
    "int16": "n",
    "uint16": "q",
    "int32": "i",
    "uint32": "u",
    "int64": "x",
    "uint64": "t",
    "handle": "h",
    "double": "d",
    "string": "s",
    "objectpath": "o",
    "signature": "g",
}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<punct>[\[\],])
      | (?P<annot>@a?[ybnqiuxthdsog])
      | (?P<word>[A-Za-z0-9_.+\-]+)
    )""",
    re.VERBOSE,
)
_NAME = re.compile(r"[A-Za-z]{3,}")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "uU" and len(code) > 1:
        number = int(code[1:], 16)
        if number > 0x10FFFF:
            raise ValueError(f"bad escape \\{code}")
        return chr(number)
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code]
    raise ValueError(f"unknown escape \\{code}")


def _unquote(token: str) -> str:
    """The text of a GVariant string literal (quotes removed, escapes resolved)."""
    return _ESCAPE.sub(_unescape, token[1:-1])


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected text at offset {pos}")
        tokens.append(match.group(match.lastgroup or "word"))
        pos = match.end()
    return tokens


def _scalar(token: str, sig: str | None) -> tuple[str, Any]:
    if token[0] in "'\"":
        if sig not in (None, "s", "o", "g"):
            raise ValueError(f"a string cannot have type {sig}")
        return sig or "s", _unquote(token)
    if token in ("true", "false"):
        if sig not in (None, "b"):
            raise ValueError(f"a boolean cannot have type {sig}")
        return "b", token == "true"
    is_float = any(c in token for c in ".eE") and not token.lower().startswith(("0x", "-0x"))
    if sig == "d" or (sig is None and is_float):
        number = float(token)
        if not math.isfinite(number):
            raise ValueError(f"{token!r} is not a finite number")
        return "d", number
    sig = sig or "i"
    if sig not in _INT_RANGES:
        raise ValueError(f"{token!r} is not a value of type {sig}")
    number = int(token, 0)
    lo, hi = _INT_RANGES[sig]
    if not lo <= number <= hi:
        raise ValueError(f"{number} is out of range for type {sig}")
    return sig, number


def parse_variant(text: str) -> tuple[str, Any]:
    """Parse a GVariant text value; returns ``(D-Bus signature, Python value)``."""
    tokens = _tokens(text)
    sig: str | None = None
    if tokens and tokens[0].startswith("@"):
        sig = tokens.pop(0)[1:]
    elif tokens and tokens[0] in _KEYWORDS:
        sig = _KEYWORDS[tokens.pop(0)]
    if tokens and tokens[0] == "[":
        if tokens[-1] != "]":
            raise ValueError("unterminated array")
        elem_sig = sig[1:] if sig and sig.startswith("a") else None
        if sig and not sig.startswith("a"):
            raise ValueError(f"an array cannot have type {sig}")
        inner = tokens[1:-1]
        items, separators = inner[0::2], inner[1::2]
        if any(s != "," for s in separators) or any(t in ",[]" for t in items):
            raise ValueError("array items must be single values separated by commas")
        values = [_scalar(t, elem_sig) for t in items]
        if not values and elem_sig is None:
            raise ValueError("the type of an empty array must be given (e.g. @as [])")
        elem_sig = elem_sig or values[0][0]
        if any(s != elem_sig for s, _ in values):
            raise ValueError("array items must all have one type")
        return "a" + elem_sig, [v for _, v in values]
    if len(tokens) != 1:
        raise ValueError("expected exactly one value")
    return _scalar(tokens[0], sig)


def _sec_to_usec(value: tuple[str, Any]) -> tuple[str, Any]:
    sig, number = value
    if sig in _INT_RANGES and sig != "h":
        # Go converts to uint64 before multiplying: negative values wrap around.
        return "t", (number % 2**64) * 1_000_000 % 2**64
    if sig == "d":
        return "t", int(number * 1_000_000) % 2**64
    raise ValueError("not a number")


def systemd_properties(annotations: Mapping[str, str]) -> tuple[tuple[str, Any], ...]:
    """The unit properties set by ``org.systemd.property.*`` annotations, in order."""
    props = []
    for key, text in annotations.items():
        if not key.startswith(PROPERTY_PREFIX):
            continue
        field = f'annotations["{key}"]'
        name = key[len(PROPERTY_PREFIX) :]
        if not _NAME.fullmatch(name):
            raise ConfigError(
                "systemd property name must be at least 3 ASCII letters", field=field, value=key
            )
        try:
            value = parse_variant(text)
            trimmed = name.removesuffix("Sec")
            if trimmed != name and "a" <= trimmed[-1] <= "z":
                name, value = trimmed + "USec", _sec_to_usec(value)
        except (ValueError, SyntaxError, OverflowError) as exc:
            raise ConfigError(
                f"cannot parse systemd property value: {exc}", field=field, value=text
            ) from None
        props.append((name, value))
    return tuple(props)
