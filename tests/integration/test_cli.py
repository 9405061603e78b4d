"""The installed ``pyrunc`` against real busybox containers, compared with runc where it helps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_helpers import Cli, make_bundle, pyrunc_binary
from testrun import unique_name

pytestmark = pytest.mark.root

# Container ids of this run (cgroup paths derive from them: other runs must not share them).
CT1, CT2, CT3, CT4 = (unique_name(f"ct{n}") for n in range(1, 5))
FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])


@pytest.fixture
def cli(state_root: Path) -> Iterator[Cli]:
    """A runner on a fresh state root; deletes its containers afterwards."""
    runner = Cli(state_root)
    try:
        yield runner
    finally:
        runner.cleanup()


@pytest.fixture
def cli_bundle(busybox_rootfs: Path) -> Path:
    """A bundle (busybox rootfs + ``pyrunc spec``) whose process sleeps."""
    return make_bundle(busybox_rootfs.parent, ["sleep", "1000"])


def _wait_status(cli: Cli, cid: str, status: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while cli.state(cid)["status"] != status:
        assert time.monotonic() < deadline, f"{cid} never became {status}"
        time.sleep(0.02)


def test_spec_is_runcs_spec(tmp_path: Path) -> None:
    for flags in ([], ["--rootless"]):
        ours, theirs = tmp_path / f"ours{len(flags)}", tmp_path / f"runc{len(flags)}"
        ours.mkdir()
        theirs.mkdir()
        subprocess.run([pyrunc_binary(), "spec", *flags, "--bundle", str(ours)], check=True)
        if shutil.which("runc"):
            subprocess.run(["runc", "spec", *flags, "--bundle", str(theirs)], check=True)
            assert (ours / "config.json").read_bytes() == (theirs / "config.json").read_bytes()
    again = subprocess.run(
        [pyrunc_binary(), "spec", "--bundle", str(tmp_path / "ours0")],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "exists" in again.stderr


def test_run_propagates_exit_codes(cli: Cli, busybox_rootfs: Path) -> None:
    bundle = make_bundle(busybox_rootfs.parent, ["sh", "-c", "echo hello from $(hostname); exit 3"])
    proc = cli("run", "--bundle", str(bundle), "exit3")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "hello from runc\n"
    # PID 1 of a namespace cannot SIGKILL itself; a child killed by a signal shows as 128+N.
    make_bundle(bundle, ["sh", "-c", "sh -c 'kill -KILL $$'; exit $?"])
    assert cli("run", "-b", str(bundle), "killed").returncode == 128 + 9
    make_bundle(bundle, ["true"])
    assert cli("run", "-b", str(bundle), "ok").returncode == 0
    assert cli("list", "-q").stdout == ""


def test_create_start_state_kill_delete(cli: Cli, cli_bundle: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "init.pid"
    rc, _, err = cli.detached(
        "create", "--bundle", str(cli_bundle), "--pid-file", str(pid_file), CT1, cid=CT1
    )
    assert rc == 0, err.read_text()
    state = cli.state(CT1)
    expected = json.loads((FIXTURES / "runc-1.1.5-state-command.json").read_text())
    assert list(state) == list(expected)
    assert state["status"] == "created" and state["bundle"] == str(cli_bundle)
    assert state["pid"] == int(pid_file.read_text())
    raw = cli("state", CT1).stdout
    assert raw.startswith('{\n  "ociVersion"') and not raw.endswith("\n")

    assert cli("start", CT1).returncode == 0
    assert cli.state(CT1)["status"] == "running"
    again = cli("start", CT1)
    assert again.returncode == 1 and "already running" in again.stderr

    not_stopped = cli("delete", CT1)
    assert not_stopped.returncode == 1 and "not stopped" in not_stopped.stderr
    # sleep is PID 1 of its namespace: it ignores TERM, as under runc.
    assert cli("kill", CT1, "KILL").returncode == 0
    _wait_status(cli, CT1, "stopped")
    assert cli.state(CT1)["pid"] == 0
    assert cli("kill", CT1).returncode == 1
    assert cli("delete", CT1).returncode == 0
    assert not (cli.root / CT1).exists()
    assert not any(Path("/sys/fs/cgroup").glob("*/ct1"))


def test_exec_ps_pause_resume_list(cli: Cli, cli_bundle: Path, tmp_path: Path) -> None:
    assert cli.detached("run", "-d", "-b", str(cli_bundle), CT2, cid=CT2)[0] == 0
    init = cli.state(CT2)["pid"]

    proc = cli("exec", CT2, "sh", "-c", "echo out; echo err >&2; exit 5")
    assert (proc.returncode, proc.stdout, proc.stderr) == (5, "out\n", "err\n")
    env = cli(
        "exec",
        "-e",
        "FOO=bar",
        "--cwd",
        "/tmp",
        "-u",
        "1000:1000",
        CT2,
        "sh",
        "-c",
        "echo $FOO $(pwd) $(id -u):$(id -g)",
    )
    assert env.stdout == "bar /tmp 1000:1000\n", env.stderr

    process = tmp_path / "process.json"
    process.write_text(
        json.dumps(
            {
                "args": ["sleep", "1000"],
                "cwd": "/",
                "env": ["PATH=/bin"],
                "user": {"uid": 0, "gid": 0},
            }
        )
    )
    pid_file = tmp_path / "exec.pid"
    rc, _, err = cli.detached(
        "exec", "--process", str(process), "--detach", "--pid-file", str(pid_file), CT2, cid=CT2
    )
    assert rc == 0, err.read_text()
    exec_pid = int(pid_file.read_text())

    pids = json.loads(cli("ps", "--format", "json", CT2).stdout)
    assert set(pids) == {init, exec_pid}
    table = cli("ps", CT2).stdout.splitlines()
    assert "PID" in table[0].split() and len(table) == 3

    assert cli("pause", CT2).returncode == 0
    assert cli.state(CT2)["status"] == "paused"
    assert cli("exec", CT2, "true").returncode == 255  # runc's "exec failed" status
    assert cli("resume", CT2).returncode == 0
    assert cli.state(CT2)["status"] == "running"

    listed = json.loads(cli("list", "--format", "json").stdout)
    assert [c["id"] for c in listed] == [CT2]
    assert list(listed[0]) == [
        "ociVersion",
        "id",
        "pid",
        "status",
        "bundle",
        "rootfs",
        "created",
        "owner",
    ]
    assert listed[0]["owner"] == "root" and listed[0]["pid"] == init
    table = cli("list").stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert table[1].split()[:3] == [CT2, str(init), "running"]

    assert cli("kill", "--all", CT2, "9").returncode == 0
    _wait_status(cli, CT2, "stopped")
    assert cli("delete", CT2).returncode == 0


def test_delete_force_and_missing(cli: Cli, cli_bundle: Path) -> None:
    assert cli.detached("run", "--detach", "-b", str(cli_bundle), CT3, cid=CT3)[0] == 0
    assert cli("delete", "--force", CT3).returncode == 0
    assert cli("list", "-q").stdout == ""
    assert cli("delete", "-f", "never-existed").returncode == 0
    missing = cli("delete", "never-existed")
    assert missing.returncode == 1 and "container does not exist" in missing.stderr


def test_errors_exit_1_with_runc_messages(cli: Cli, tmp_path: Path) -> None:
    proc = cli("state", "nope")
    assert proc.returncode == 1
    assert 'level=error msg="container does not exist"' in proc.stderr
    bad = cli.detached("create", "--bundle", str(tmp_path / "missing"), "bad", cid="bad")
    assert bad[0] == 1
    assert "chdir" in bad[2].read_text() and "no such file or directory" in bad[2].read_text()
    (tmp_path / "empty").mkdir()
    nocfg = cli.detached("create", "--bundle", str(tmp_path / "empty"), "bad2", cid="bad2")
    assert nocfg[0] == 1 and "config.json not found" in nocfg[2].read_text()
    assert cli("kill", "nope", "FOO").returncode == 1
    usage = cli("state")
    assert usage.returncode == 1 and "requires exactly 1 argument" in usage.stderr
    assert cli("bogus").returncode == 3
    ckpt = cli("checkpoint", "x")  # runc looks the container up first
    assert ckpt.returncode == 1 and "container does not exist" in ckpt.stderr
    restore = cli("restore", "--image-path", str(tmp_path), "x")
    assert restore.returncode == 1 and "not supported" in restore.stderr


def test_json_logs_as_containerd_reads_them(cli: Cli, tmp_path: Path, busybox_rootfs: Path) -> None:
    bundle = make_bundle(
        busybox_rootfs.parent, ["true"], lambda s: s["process"].update(cwd="relative")
    )
    log = tmp_path / "log.json"
    rc, _, err = cli.detached(
        "--log",
        str(log),
        "--log-format",
        "json",
        "create",
        "--bundle",
        str(bundle),
        "badcwd",
        cid="badcwd",
    )
    assert rc == 1
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [r for r in lines if r["level"] == "error"]
    assert errors and list(errors[-1]) == ["level", "msg", "time"]
    assert "cwd" in errors[-1]["msg"]
    assert errors[-1]["msg"] in err.read_text()  # also on stderr, as runc does
    assert not (cli.root / "badcwd").exists()


def test_features_has_runcs_shape(cli: Cli) -> None:
    ours = json.loads(cli("features").stdout)
    theirs = json.loads((FIXTURES / "runc-1.1.5-features.json").read_text())

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items() if k != "annotations"}
        return type(value).__name__

    assert shape(ours) == shape(theirs)
    assert ours["mountOptions"] == theirs["mountOptions"]
    assert set(ours["linux"]["capabilities"]) <= set(theirs["linux"]["capabilities"]) | {
        "CAP_CHECKPOINT_RESTORE",
        "CAP_BPF",
        "CAP_PERFMON",
    }


def test_events_stats_and_update(cli: Cli, cli_bundle: Path) -> None:
    assert cli.detached("run", "-d", "-b", str(cli_bundle), CT4, cid=CT4)[0] == 0
    ev = cli("events", "--stats", CT4)
    assert ev.returncode == 0, ev.stderr
    event = json.loads(ev.stdout)
    assert event["type"] == "stats" and event["id"] == CT4
    assert {"cpu", "memory", "pids", "blkio"} <= set(event["data"])
    assert event["data"]["pids"]["current"] >= 1
    up = cli("update", "--pids-limit", "50", CT4)
    assert up.returncode == 0, up.stderr
    path = json.loads((cli.root / CT4 / "state.json").read_text())["cgroup_paths"].get("pids")
    if path:
        assert Path(path, "pids.max").read_text().strip() == "50"
    assert cli("delete", "-f", CT4).returncode == 0


def _attached_run(cli: Cli, bundle: Path, cid: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [cli.binary, "--root", str(cli.root), "run", "-b", str(bundle), cid],
        stdout=subprocess.PIPE,
        text=True,
    )
    cli.ids.add(cid)
    deadline = time.monotonic() + 20
    while cli("state", cid).returncode != 0 or cli.state(cid)["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


def test_run_forwards_signals(cli: Cli, busybox_rootfs: Path) -> None:
    bundle = make_bundle(
        busybox_rootfs.parent,
        ["sh", "-c", "trap 'echo got TERM; exit 42' TERM; while :; do sleep 0.1; done"],
    )
    proc = _attached_run(cli, bundle, "sig")
    os.kill(proc.pid, 15)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 42 and out == "got TERM\n"


def test_run_killed_exits_128_plus_signal(cli: Cli, cli_bundle: Path) -> None:
    proc = _attached_run(cli, cli_bundle, "killme")
    assert cli("kill", "killme", "KILL").returncode == 0
    proc.communicate(timeout=20)
    assert proc.returncode == 128 + 9
    assert cli("list", "-q").stdout == ""
