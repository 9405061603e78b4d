"""Seccomp inside real containers: the filter is compiled by the runtime, loaded by the init."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, run_output

pytestmark = pytest.mark.root
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def block_mkdir(errno_ret: int | None = None) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        rule: dict[str, Any] = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
        if errno_ret is not None:
            rule["errnoRet"] = errno_ret
        spec["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [rule],
        }

    return edit


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_blocked_syscall_fails_with_errno(
    containers: Factories, make_config: Any, no_new_privileges: bool
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        block_mkdir()(spec)
        spec["process"]["noNewPrivileges"] = no_new_privileges

    c = containers.create(make_config(edit))
    out, code = run_output(
        c, ["sh", "-c", "mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status"]
    )
    assert code == 0, out
    assert "Operation not permitted" in out
    assert "rc=1" in out
    assert "Seccomp:\t2" in out


def test_custom_errno_and_exec_process_is_filtered_too(
    containers: Factories, make_config: Any
) -> None:
    from libcontainer import Process

    c = containers.create(make_config(block_mkdir(errno_ret=30)))  # EROFS
    init = Process(["sleep", "1000"])
    c.run(init)
    ex = Process(["mkdir", "/tmp/y"], init=False, stderr=subprocess.PIPE)
    c.start(ex)
    assert ex.stderr is not None
    assert b"Read-only file system" in ex.stderr.read()
    assert ex.wait() == 1


def test_notify_agent_answers_for_the_container(
    containers: Factories, make_config: Any, tmp_path: Path
) -> None:
    listener = str(tmp_path / "agent.sock")
    agent = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "seccomp_agent.py"),
            "--socket",
            listener,
            "--allow-mkdir",
            "/tmp/allowed",
        ],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(listener) and time.monotonic() < deadline:
            time.sleep(0.02)

        def edit(spec: dict[str, Any]) -> None:
            spec["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "listenerPath": listener,
                "listenerMetadata": "test",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
            }

        c = containers.create(make_config(edit))
        out, _ = run_output(
            c, ["sh", "-c", "mkdir /tmp/allowed && echo yes; mkdir /tmp/other || echo no"]
        )
        assert "yes" in out and "no" in out, out
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        _ = socket  # the agent owns the socket file


def test_default_profile_lets_busybox_work(containers: Factories, make_config: Any) -> None:
    import attrs

    from libcontainer.seccomp import profiles

    c = containers.create(attrs.evolve(make_config(), seccomp=profiles.docker_default()))
    out, code = run_output(c, ["sh", "-c", "ls / >/dev/null && echo hi > /tmp/f && cat /tmp/f"])
    assert (out, code) == ("hi\n", 0)
