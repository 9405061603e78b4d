"""Unit tests of runc's behaviour in pyrunc's pieces: argument order, ``--cgroup`` values,
failure wording, log shapes, stage log lines, the version text (no root needed)."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from libcontainer import stagelog, sync
from libcontainer.cgroups.subcgroups import check_sub_cgroup_paths, sub_path
from libcontainer.errors import CgroupError, ConfigError, ProcessStartError
from pyrunc.cmd_lifecycle import relax_mount_destinations, sub_cgroup_paths
from pyrunc.commands import BY_NAME
from pyrunc.context import CliError
from pyrunc.failures import describe
from pyrunc.flags import parse_flags, reorder_args
from pyrunc.logs import Logger, source_location
from pyrunc.version import git_commit, version_text

# -- argument order (urfave/cli 1.22's reorderArgs) ----------------------------------------------


@pytest.mark.parametrize(
    ("command", "argv", "expected"),
    [
        ("update", ["c1", "--memory", "1g"], ["--memory", "1g", "c1"]),
        ("update", ["c1", "--memory", "-1"], ["--memory", "-1", "c1"]),  # a value, not a flag
        ("update", ["c1", "--memory=1g", "x"], ["--memory=1g", "c1", "x"]),
        ("delete", ["c1", "--force"], ["--force", "c1"]),
        ("delete", ["--force", "--", "c1"], ["--force", "--", "c1"]),
        ("kill", ["c1", "--", "KILL"], ["--", "c1", "KILL"]),
        # runc's quirk, kept: the argument after a bool flag moves with it.
        ("kill", ["c1", "--all", "KILL"], ["--all", "KILL", "c1"]),
        ("kill", ["c1", "-nope"], ["c1", "-nope"]),  # not the command's flag: left in place
    ],
)
def test_reorder_args_as_urfave_cli(command: str, argv: list[str], expected: list[str]) -> None:
    assert reorder_args(BY_NAME[command].flags, argv) == expected


def test_flags_after_the_id_parse() -> None:
    opts, args, given = parse_flags(
        BY_NAME["update"].flags, ["c1", "--pids-limit", "50", "--cpu-rt-period", "1"], reorder=True
    )
    assert args == ["c1"] and opts["pids_limit"] == 50 and opts["cpu_rt_period"] == "1"
    assert given == {"pids_limit", "cpu_rt_period"}
    opts, args, _ = parse_flags(BY_NAME["kill"].flags, ["c1", "--", "KILL"], reorder=True)
    assert args == ["c1", "KILL"]


def test_exec_and_ps_keep_what_follows_the_id() -> None:
    assert BY_NAME["exec"].reorder is False and BY_NAME["ps"].reorder is False
    assert all(c.reorder for name, c in BY_NAME.items() if name not in ("exec", "ps"))


def test_checkpoint_and_restore_have_runcs_flags() -> None:
    checkpoint = {n for f in BY_NAME["checkpoint"].flags for n in f.names}
    assert {"parent-path", "status-fd", "page-server", "manage-cgroups-mode", "empty-ns"} <= (
        checkpoint
    )
    assert len(checkpoint) == 15
    restore = {n for f in BY_NAME["restore"].flags for n in f.names}
    assert {"lsm-profile", "lsm-mount-context", "console-socket", "pid-file"} <= restore


# -- exec --cgroup ---------------------------------------------------------------------------------


def test_sub_cgroup_values() -> None:
    assert sub_cgroup_paths([]) == {}
    assert sub_cgroup_paths(["sub"]) == {"": "sub"}
    assert sub_cgroup_paths([":sub"]) == {"": "sub"}
    assert sub_cgroup_paths(["memory,pids:a", "cpu:b"]) == {"memory": "a", "pids": "a", "cpu": "b"}
    with pytest.raises(CliError, match=r"invalid --cgroup argument: a:b:c$"):
        sub_cgroup_paths(["a:b:c"])
    with pytest.raises(CliError, match=r"sub \(missing <controller>: prefix\)"):
        sub_cgroup_paths(["sub", "cpu:x"])


@pytest.mark.parametrize(
    ("path", "relative"),
    [("sub", "sub"), ("/sub", "sub"), ("a/../b", "b"), ("a//b/", "a/b"), ("", ""), (".", "")],
)
def test_sub_path_stays_below_the_container(path: str, relative: str) -> None:
    assert sub_path(path) == relative


@pytest.mark.parametrize("path", ["..", "../x", "a/../../x", "/../x"])
def test_sub_path_refuses_to_climb(path: str) -> None:
    with pytest.raises(CgroupError, match="is not a sub cgroup path"):
        sub_path(path)


def test_sub_cgroup_paths_checked_against_the_containers_cgroups() -> None:
    cgroups = {"memory": "/sys/fs/cgroup/memory/c", "": "/sys/fs/cgroup/unified/c"}
    check_sub_cgroup_paths({"memory": "a"}, cgroups)
    check_sub_cgroup_paths({"": "a"}, cgroups)
    with pytest.raises(CgroupError, match="unknown controller bogus in SubCgroupPaths"):
        check_sub_cgroup_paths({"bogus": "a"}, cgroups)
    with pytest.raises(CgroupError, match="no cgroups"):
        check_sub_cgroup_paths({"": "a"}, {})


# -- failure wording, relaxed mounts ---------------------------------------------------------------


def test_describe_words_failures_as_runc() -> None:
    assert describe(ConfigError("bad", field="x")) == "invalid configuration: x: bad"
    assert describe(ConfigError("invalid configuration: y")) == "invalid configuration: y"
    assert describe(ProcessStartError("exec: boom")) == (
        "unable to start container process: exec: boom"
    )
    assert describe(CliError("container does not exist")) == "container does not exist"


def test_relative_mount_destination_is_made_absolute_with_runcs_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyrunc import logs

    log = Logger()
    log.configure(str(tmp_path / "log"), "text", True)
    monkeypatch.setattr(logs, "logger", log)
    monkeypatch.setattr("pyrunc.cmd_lifecycle.logger", log)
    spec = {"mounts": [{"destination": "rel", "type": "tmpfs"}, {"destination": "/abs"}]}
    relax_mount_destinations(spec)
    assert [m["destination"] for m in spec["mounts"]] == ["/rel", "/abs"]
    lines = (tmp_path / "log").read_text().splitlines()
    assert len(lines) == 2
    assert 'msg="mount destination rel is not absolute.' in lines[0]
    # With --debug, a line of pyrunc's own names where it comes from, as runc's do.
    assert 'func="pyrunc.cmd_lifecycle.relax_mount_destinations()"' in lines[0]
    assert 'level=warning msg="invalid configuration" error="invalid mount rel' in lines[1]


# -- log shapes ------------------------------------------------------------------------------------


def test_json_lines_are_gos(tmp_path: Path) -> None:
    log = Logger()
    log.configure(str(tmp_path / "log.json"), "json", True)
    log.log("debug", "a => b & <c>", caller=("pyrunc.x.f", "pyrunc/x.py:3"), pid=7, error="e")
    raw = (tmp_path / "log.json").read_text()
    assert "\\u003e" in raw and "\\u0026" in raw and "\\u003c" in raw and ">" not in raw
    record = json.loads(raw)
    assert list(record) == ["error", "file", "func", "level", "msg", "pid", "time"]
    assert record["func"] == "pyrunc.x.f" and record["pid"] == 7


def test_text_lines_name_the_caller_only_with_debug(tmp_path: Path) -> None:
    quiet, debug = Logger(), Logger()
    quiet.configure(str(tmp_path / "quiet"), "text", False)
    debug.configure(str(tmp_path / "debug"), "text", True)
    for log in (quiet, debug):
        log.error("went wrong", status=3, pid=1)
    (plain,) = (tmp_path / "quiet").read_text().splitlines()
    assert plain.endswith('level=error msg="went wrong" pid=1 status=3')
    (named,) = (tmp_path / "debug").read_text().splitlines()
    assert "func=" not in named  # called from outside our packages: no caller to name
    debug.log("debug", "x", caller=("pyrunc.tty.forward", "pyrunc/tty.py:9"))
    last = (tmp_path / "debug").read_text().splitlines()[-1]
    assert last.endswith('level=debug msg=x func="pyrunc.tty.forward()" file="pyrunc/tty.py:9"')


def test_source_location() -> None:
    assert source_location("/x/site-packages/pyrunc/tty.py", 4, "f") == (
        "pyrunc.tty.f",
        "pyrunc/tty.py:4",
    )
    assert source_location("/r/libcontainer/cgroups/__init__.py", 1, "g") == (
        "libcontainer.cgroups.g",
        "libcontainer/cgroups/__init__.py:1",
    )
    assert source_location("/usr/lib/python3.11/logging/__init__.py", 1, "h") is None


# -- stage lines -----------------------------------------------------------------------------------


class _Payload:
    """The two fields of InitPayload the stage lines look at."""

    def __init__(self, level: int) -> None:
        self.log_level = level

        class _Fds:
            sync = 0

        self.fds = _Fds()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def stage_records() -> Iterator[_Records]:
    """What reaches the stages' logger (directly: another test may have stopped
    ``libcontainer`` records from propagating to pytest's handler)."""
    handler = _Records()
    target = logging.getLogger(stagelog.LOGGER)
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        target.setLevel(level)


@pytest.fixture
def channel() -> Iterator[tuple[socket.socket, socket.socket]]:
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with parent, child:
        yield parent, child


def test_stage_lines_reach_the_parents_logger(
    channel: tuple[socket.socket, socket.socket], stage_records: _Records
) -> None:
    parent, child = channel
    payload = _Payload(10)
    stagelog.stage0_begin(payload, [child.fileno()])  # type: ignore[arg-type]
    stagelog.stage2_begin(payload, child)  # type: ignore[arg-type]
    sync.send(child, sync.Ready())
    msg, _ = sync.recv(parent)  # the Log messages are logged on the way
    assert isinstance(msg, sync.Ready)
    pid = os.getpid()
    assert stage_records.messages == [
        f"nsexec[{pid}]: => nsexec container setup",
        f"nsexec-0[{pid}]: ~> nsexec stage-0",
        f"nsexec-0[{pid}]: spawn stage-1",
        f"nsexec-0[{pid}]: -> stage-1 synchronisation loop",
        f"nsexec-2[{pid}]: ~> nsexec stage-2",
        f"nsexec-2[{pid}]: <= nsexec container setup",
        "child process in init()",
    ]
    assert all(getattr(r, "stage", False) for r in stage_records.records)


def test_stages_are_quiet_without_debug(channel: tuple[socket.socket, socket.socket]) -> None:
    parent, child = channel
    payload = _Payload(30)
    assert stagelog.stage1_fd(payload, [child.fileno()]) == -1  # type: ignore[arg-type]
    stagelog.stage0_begin(payload, [child.fileno()])  # type: ignore[arg-type]
    stagelog.stage2_begin(payload, child)  # type: ignore[arg-type]
    stagelog.init_line(payload, child, "setns_init: about to exec")  # type: ignore[arg-type]
    parent.setblocking(False)
    with pytest.raises(BlockingIOError):
        parent.recv(100)


def test_drain_logs_what_arrived_before_a_failed_start(
    channel: tuple[socket.socket, socket.socket], stage_records: _Records
) -> None:
    parent, child = channel
    child.send(b'{"kind":"log","level":"debug","msg":"nsexec-1[5]: spawn stage-2"}')
    child.send(b"not json")
    stagelog.drain(parent)  # returns without waiting for more
    assert stage_records.messages == ["nsexec-1[5]: spawn stage-2"]


# -- version ---------------------------------------------------------------------------------------


def test_git_commit_of_a_worktree_checkout(tmp_path: Path) -> None:
    common = tmp_path / "main" / ".git"
    (common / "worktrees" / "wt").mkdir(parents=True)
    (common / "packed-refs").write_text("# pack-refs\n" + "ab" * 20 + " refs/heads/topic\n")
    wt_git = common / "worktrees" / "wt"
    (wt_git / "HEAD").write_text("ref: refs/heads/topic\n")
    (wt_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    (checkout / "pkg").mkdir(parents=True)
    (checkout / ".git").write_text(f"gitdir: {wt_git}\n")
    assert git_commit(str(checkout / "pkg")) == "ab" * 20
    (wt_git / "HEAD").write_text("cd" * 20 + "\n")  # detached
    assert git_commit(str(checkout)) == "cd" * 20
    assert git_commit("/") is None


def test_version_text_has_runcs_keys() -> None:
    lines = version_text().splitlines()
    assert lines[0].startswith("pyrunc version ")
    assert [line.split(":", 1)[0] for line in lines[1:]] == [
        "commit",
        "spec",
        "python",
        "libseccomp",
    ]


def test_the_inits_log_records_go_to_the_parent_until_the_channel_closes(
    channel: tuple[socket.socket, socket.socket], tmp_path: Path, stage_records: _Records
) -> None:
    parent, child = channel
    after = tmp_path / "after-close"
    pid = os.fork()
    if pid == 0:  # the container process (here: a fork, so this test's loggers stay as they are)
        code = 1
        try:
            parent.close()
            target = logging.getLogger("libcontainer")
            target.handlers = [logging.FileHandler(after)]
            stagelog.stage2_begin(_Payload(30), child)  # type: ignore[arg-type]
            logging.getLogger("libcontainer.rootfs").debug("below the parent's level")
            logging.getLogger("libcontainer.rootfs").warning("mount %s refused", "/x")
            child.close()
            logging.getLogger("libcontainer.rootfs").warning("after the channel closed")
            code = 0
        finally:
            os._exit(code)
    child.close()
    while sync.recv(parent)[0] is not None:
        pass
    assert os.waitpid(pid, 0)[1] == 0
    assert stage_records.messages == ["mount /x refused"]
    assert stage_records.records[0].levelname == "WARNING"
    assert after.read_text() == "after the channel closed\n"
