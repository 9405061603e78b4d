"""parse_process: a process object alone, exactly as ``parse_spec({"process": ...})`` reads it."""

from __future__ import annotations

from typing import Any

import pytest

from libcontainer.errors import ConfigError
from specconv import parse_process, parse_spec, process_args

GOOD: list[dict[str, Any]] = [
    {"args": ["sh"], "cwd": "/"},
    {
        "terminal": True,
        "consoleSize": {"height": 24, "width": 80},
        "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3], "username": "u"},
        "args": ["sh", "-c", "true"],
        "env": ["PATH=/bin", "TERM=xterm"],
        "cwd": "/tmp",
        "capabilities": {"bounding": ["CAP_KILL"], "ambient": ["CAP_CHOWN"]},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 2, "soft": 1}],
        "noNewPrivileges": True,
        "apparmorProfile": "prof",
        "oomScoreAdj": -5,
        "selinuxLabel": "lbl",
        "unknownKey": {"ignored": True},
        "env2": None,
    },
]

BAD: list[Any] = [
    None,
    5,
    [],
    {"args": "sh"},
    {"args": ["sh", 3]},
    {"user": {"uid": -1}},
    {"user": {"additionalGids": ["x"]}},
    {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1.5}]},
    {"consoleSize": {"height": "24"}},
    {"capabilities": {"bounding": [1]}},
    {"oomScoreAdj": 2**63},
]


@pytest.mark.parametrize("data", GOOD)
def test_same_model_as_through_a_spec(data: dict[str, Any]) -> None:
    alone = parse_process(data)
    assert alone == parse_spec({"process": data}).process
    assert process_args(alone) == process_args(parse_spec({"process": data}))


def _error(fn: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        fn()
    return info.value


@pytest.mark.parametrize("data", BAD)
def test_same_errors_as_through_a_spec(data: Any) -> None:
    alone = _error(lambda: process_args(parse_process(data)))
    whole = _error(lambda: process_args(parse_spec({"process": data})))
    assert (str(alone), alone.field) == (str(whole), whole.field)
    assert alone.field is not None and alone.field.startswith("process")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cwd": "/"}, "process.args"),
        ({"args": ["sh"], "cwd": "rel"}, "process.cwd"),
        ({"args": ["sh"], "cwd": "/", "rlimits": [{"type": "NOFILE"}]}, "process.rlimits[0].type"),
    ],
)
def test_process_args_checks_a_process_alone(data: dict[str, Any], field: str) -> None:
    assert _error(lambda: process_args(parse_process(data))).field == field
