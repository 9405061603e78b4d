"""jsontext: the reader agrees with json.loads, the writer with Go's encoding/json."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libcontainer import jsontext

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_loads_agrees_with_json(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2), f"  {json.dumps(value)}\n"):
        assert jsontext.loads(text) == json.loads(text)
        assert jsontext.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    "text", ["", "{", '{"a": }', "[1, 2", '{"a": 1} x', "nul", '"\x01"', "9" * 5000, "[" * 10**5]
)
def test_loads_fails_as_json_does(text: str) -> None:
    with pytest.raises((ValueError, RecursionError)) as ours:
        jsontext.loads(text)
    with pytest.raises((ValueError, RecursionError)) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_loads_special_constants() -> None:
    value = jsontext.loads("[NaN, Infinity, -Infinity, 1.5, 10]")
    assert math.isnan(value[0]) and value[1:] == [math.inf, -math.inf, 1.5, 10]


def test_marshal_escapes_like_go() -> None:
    value = {"a": "<&>", "b": "é", "c": "\b\f\x01\u2028", "d": [], "e": {}, "f": None}
    assert jsontext.marshal(value) == (
        '{"a":"\\u003c\\u0026\\u003e","b":"é","c":"\\u0008\\u000c\\u0001\\u2028",'
        '"d":[],"e":{},"f":null}'
    )
    assert (
        jsontext.marshal_indent({"a": [1, True]}, "  ") == '{\n  "a": [\n    1,\n    true\n  ]\n}'
    )


@pytest.mark.parametrize(
    ("value", "go"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-07"),
        (123456789.125, "123456789.125"),
        (-2.5, "-2.5"),
        (1.234e-5, "0.00001234"),
    ],
)
def test_floats_as_go_writes_them(value: float, go: str) -> None:
    assert jsontext.marshal(value) == go


@given(JSON_VALUES)
def test_marshal_is_json(value: Any) -> None:
    assert json.loads(jsontext.marshal(value)) == value
    assert json.loads(jsontext.marshal_indent(value, "\t")) == value
