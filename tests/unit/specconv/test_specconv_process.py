"""process_args: the process part of a spec, checked as ``runc run`` checks it."""

from __future__ import annotations

from typing import Any

import pytest

from libcontainer.configs import Capabilities, Rlimit
from libcontainer.errors import ConfigError
from specconv import ProcessSpec, example, parse_spec, process_args
from specconv.spec import Box


def test_example_process() -> None:
    caps = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert process_args(example(cgroup_ns=False)) == ProcessSpec(
        args=("sh",),
        env=(
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ),
        cwd="/",
        terminal=True,
        capabilities=Capabilities(bounding=caps, effective=caps, permitted=caps, ambient=caps),
        rlimits=(Rlimit(type=7, hard=1024, soft=1024),),
        no_new_privileges=True,
    )


def test_every_process_field() -> None:
    spec = parse_spec(
        {
            "process": {
                "terminal": True,
                "consoleSize": {"height": 24, "width": 80},
                "user": {"uid": 1, "gid": 2, "umask": 7, "additionalGids": [3, 4], "username": "u"},
                "args": ["a", "b"],
                "env": ["A=1"],
                "cwd": "/w",
                "rlimits": [{"type": "RLIMIT_CORE", "hard": 3, "soft": 2}],
                "noNewPrivileges": True,
                "apparmorProfile": "prof",
                "oomScoreAdj": -5,
                "selinuxLabel": "lbl",
            }
        }
    )
    assert process_args(spec) == ProcessSpec(
        args=("a", "b"),
        env=("A=1",),
        cwd="/w",
        uid=1,
        gid=2,
        additional_gids=(3, 4),
        username="u",
        umask=7,
        terminal=True,
        console_size=Box(height=24, width=80),
        capabilities=None,
        rlimits=(Rlimit(type=4, hard=3, soft=2),),
        no_new_privileges=True,
        apparmor_profile="prof",
        selinux_label="lbl",
        oom_score_adj=-5,
    )


@pytest.mark.parametrize(
    ("process", "field"),
    [
        (None, "process"),
        ({"args": ["sh"]}, "process.cwd"),
        ({"args": ["sh"], "cwd": "rel"}, "process.cwd"),
        ({"cwd": "/"}, "process.args"),
        ({"cwd": "/", "args": ["sh"], "rlimits": [{"type": "NOFILE"}]}, "process.rlimits[0].type"),
        (
            {"cwd": "/", "args": ["sh"], "capabilities": {"permitted": ["CAP_FOO"]}},
            "process.capabilities.permitted[0]",
        ),
    ],
)
def test_process_errors(process: dict[str, Any] | None, field: str) -> None:
    spec = parse_spec({"process": process} if process is not None else {})
    with pytest.raises(ConfigError) as info:
        process_args(spec)
    assert info.value.field == field
