"""org.systemd.property.* annotations: GVariant text values and the Sec to USec rename."""

from __future__ import annotations

from typing import Any

import pytest

from libcontainer.errors import ConfigError
from specconv.systemd_props import parse_variant, systemd_properties


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", ("b", True)),
        ("false", ("b", False)),
        ("42", ("i", 42)),
        ("-3", ("i", -3)),
        ("0x10", ("i", 16)),
        ("1.5", ("d", 1.5)),
        ("uint64 123", ("t", 123)),
        ("@t 123", ("t", 123)),
        ("byte 255", ("y", 255)),
        ("int64 -1", ("x", -1)),
        ("double 2", ("d", 2.0)),
        ("'inactive-or-failed'", ("s", "inactive-or-failed")),
        ('"a \\"q\\""', ("s", 'a "q"')),
        ("['a', 'b']", ("as", ["a", "b"])),
        ("[1, 2]", ("ai", [1, 2])),
        ("@as []", ("as", [])),
        ("@au [1]", ("au", [1])),
    ],
)
def test_parse_variant(text: str, expected: tuple[str, Any]) -> None:
    assert parse_variant(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "byte 256", "uint32 -1", "[]", "[1, 'a']", "[1 2]", "[1,", "1 2", "@s 1", "@t true", "?"],
)
def test_parse_variant_errors(text: str) -> None:
    with pytest.raises((ValueError, SyntaxError)):
        parse_variant(text)


def test_properties_from_annotations() -> None:
    props = systemd_properties(
        {
            "org.systemd.property.CollectMode": "'inactive-or-failed'",
            "org.systemd.property.TimeoutStopSec": "uint64 2",
            "org.systemd.property.RuntimeMaxSec": "1.5",
            "org.systemd.property.CPUSec": "5",  # upper case before Sec: no rename
            "unrelated": "x",
        }
    )
    assert props == (
        ("CollectMode", ("s", "inactive-or-failed")),
        ("TimeoutStopUSec", ("t", 2_000_000)),
        ("RuntimeMaxUSec", ("t", 1_500_000)),
        ("CPUSec", ("i", 5)),
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("org.systemd.property.AB", "1"),
        ("org.systemd.property.Bad_Name", "1"),
        ("org.systemd.property.Foo", "nope"),
        ("org.systemd.property.TimeoutSec", "'str'"),
    ],
)
def test_property_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        systemd_properties({key: value})
    assert info.value.field == f'annotations["{key}"]'


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'a\\nb'", "a\nb"),
        ("'\\u00e9\\U0001F600'", "é\U0001f600"),
        ("'it\\'s'", "it's"),
        ("'back\\\\slash'", "back\\slash"),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    assert parse_variant(text) == ("s", value)


@pytest.mark.parametrize("text", ["'\\d'", "'\\U00110000'", "1e999", "inf"])
def test_bad_escapes_and_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_variant(text)
