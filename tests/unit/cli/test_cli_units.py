"""Unit tests of the CLI's pieces: flag parsing, output formats, signals, state reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pyrunc import handles
from pyrunc.cmd_lifecycle import check_terminal
from pyrunc.cmd_misc import parse_bytes
from pyrunc.cmd_query import parse_signal, tabwrite
from pyrunc.commands import BY_NAME, GLOBAL_FLAGS
from pyrunc.context import CliError, Globals
from pyrunc.events import parse_duration
from pyrunc.flags import UsageError, parse_flags
from pyrunc.logs import Logger

FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])


def test_global_flags_go_style() -> None:
    opts, rest, given = parse_flags(
        GLOBAL_FLAGS, ["-root", "/r", "--log=/l", "--debug", "state", "x"]
    )
    assert opts["root"] == "/r" and opts["log"] == "/l" and opts["debug"] is True
    assert rest == ["state", "x"]
    assert given == {"root", "log", "debug"}


def test_defaults_and_stop_at_first_argument() -> None:
    flags = BY_NAME["exec"].flags
    opts, rest, _ = parse_flags(flags, ["-e", "A=1", "--env", "B=2", "ct", "sh", "-c", "x"])
    assert opts["env"] == ["A=1", "B=2"]
    assert opts["detach"] is False and opts["preserve_fds"] == 0
    assert rest == ["ct", "sh", "-c", "x"]


def test_double_dash_and_bool_values() -> None:
    flags = BY_NAME["run"].flags
    opts, rest, _ = parse_flags(flags, ["--detach=false", "--", "-weird-id"])
    assert opts["detach"] is False
    assert rest == ["-weird-id"]


@pytest.mark.parametrize(
    "argv",
    [["--nope"], ["--bundle"], ["--preserve-fds", "x"], ["--detach=maybe"]],
)
def test_bad_flags(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_flags(BY_NAME["run"].flags, argv)


@pytest.mark.parametrize(
    ("raw", "number"), [("9", 9), ("KILL", 9), ("SIGKILL", 9), ("term", 15), ("SIGUSR1", 10)]
)
def test_parse_signal(raw: str, number: int) -> None:
    assert parse_signal(raw) == number


def test_parse_signal_unknown() -> None:
    with pytest.raises(CliError, match='unknown signal "FOO"'):
        parse_signal("FOO")


def test_tabwrite_matches_go_tabwriter() -> None:
    out = tabwrite([["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]])
    assert out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"
    out = tabwrite([["ID", "X"], ["a-very-long-container-id", "y"]])
    assert out == "ID" + " " * 25 + "X\na-very-long-container-id   y\n"


def test_logger_json_and_text(tmp_path: Path) -> None:
    log = Logger()
    log.configure(str(tmp_path / "log.json"), "json", False)
    log.error('bad "thing"')
    log.debug("hidden")
    lines = (tmp_path / "log.json").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert list(record) == ["level", "msg", "time"]
    assert record["level"] == "error" and record["msg"] == 'bad "thing"'
    text = Logger()
    text.configure(str(tmp_path / "log.txt"), "text", True)
    text.debug("plain")
    text.error("two words")
    out = (tmp_path / "log.txt").read_text().splitlines()
    assert out[0].endswith("level=debug msg=plain")
    assert out[1].endswith('level=error msg="two words"')


def test_logger_rejects_unknown_format() -> None:
    with pytest.raises(ValueError):
        Logger().configure("", "xml", False)


def test_check_terminal() -> None:
    check_terminal(True, True, "/sock")
    check_terminal(False, False, "")
    with pytest.raises(CliError, match="cannot allocate tty"):
        check_terminal(True, True, "")
    with pytest.raises(CliError, match="cannot use console socket"):
        check_terminal(False, False, "/sock")


def test_durations_and_sizes() -> None:
    assert parse_duration("5s") == 5
    assert parse_duration("1m30s") == 90
    assert parse_duration("100ms") == pytest.approx(0.1)
    with pytest.raises(CliError):
        parse_duration("5")
    assert parse_bytes("512m") == 512 << 20
    assert parse_bytes("1G") == 1 << 30
    assert parse_bytes("-1") == -1


def _write_state(root: Path, cid: str, **extra: object) -> Path:
    data = json.loads((FIXTURES / "runc-1.1.5-state.json").read_text())
    data["id"] = cid
    data.update(extra)
    (root / cid).mkdir(parents=True)
    (root / cid / "state.json").write_text(json.dumps(data))
    return root / cid


def _globals(root: Path) -> Globals:
    return Globals(root=str(root))


def test_state_of_a_dead_container(tmp_path: Path) -> None:
    _write_state(tmp_path, "c1", init_process_pid=2**22)
    c = handles.load(_globals(tmp_path), "c1")
    assert c.status() == "stopped"
    state = c.oci_state()
    expected = json.loads((FIXTURES / "runc-1.1.5-state-command.json").read_text())
    assert list(state) == list(expected)
    assert state["pid"] == 0 and state["status"] == "stopped"


def test_state_of_a_live_process(tmp_path: Path) -> None:
    start = int(Path("/proc/self/stat").read_bytes().rsplit(b")", 1)[1].split()[19])
    d = _write_state(
        tmp_path, "c2", init_process_pid=os.getpid(), init_process_start=start, cgroup_paths={}
    )
    c = handles.load(_globals(tmp_path), "c2")
    assert c.status() == "running"
    (d / "exec.fifo").touch()
    assert c.status() == "created"
    # The test runner is no container's process: it is in none of its (absent) cgroups and
    # has the host's root, so the core refuses to count it as the container's.
    assert c.pids() == []


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="container does not exist"):
        handles.load(_globals(tmp_path), "nope")
    with pytest.raises(CliError, match="invalid id"):
        handles.load(_globals(tmp_path), "../etc")
