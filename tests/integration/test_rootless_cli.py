"""``pyrunc`` run by a real unprivileged user, side by side with runc 1.1.5 where they meet.

The user (see ``rootless_env.py``) drives both runtimes with their defaults: the state
root under its ``XDG_RUNTIME_DIR``, no cgroups unless a subtree is delegated to it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from rootless_env import SUB_COUNT, RootlessUser, delegated
from testrun import unique_name

from libcontainer.procinfo import is_alive, start_time

pytestmark = pytest.mark.root

RUNC = shutil.which("runc")
needs_runc = pytest.mark.skipif(RUNC is None, reason="runc is not installed")
needs_uidmap = pytest.mark.skipif(
    shutil.which("newuidmap") is None, reason="needs newuidmap/newgidmap (Debian: uidmap)"
)


def detached(user: RootlessUser, runtime: str, cid: str, **kw: Any) -> None:
    """``<runtime> run -d cid`` in the user's bundle, its stdio on /dev/null (a detached
    init holding our pipes would keep them open)."""
    err = user.home / f"{cid}.err"
    done = user.run(
        ["sh", "-c", '"$0" run -d "$1" </dev/null >/dev/null 2>"$2"', runtime, cid, str(err)],
        cwd=user.bundle,
        **kw,
    )
    assert done.returncode == 0, err.read_text()


def state(user: RootlessUser, runtime: str, cid: str, **kw: Any) -> dict[str, Any]:
    """``<runtime> state cid`` as the user, parsed."""
    done = user.run([runtime, "state", cid], **kw)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_lifecycle_without_cgroups_as_runc(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """run -d, state, exec (the map from inside), kill and delete, by pyrunc and runc as
    the same user: the same statuses and maps; both keep state under $XDG_RUNTIME_DIR,
    made 0700 with the sticky bit; pause says there is no freezer of the container's."""
    user = rootless_user
    rootless_spec["process"]["args"] = ["sleep", "60"]
    user.write_config(rootless_spec)
    runtimes = {"pyrunc": user.pyrunc, "runc": RUNC} if RUNC else {"pyrunc": user.pyrunc}
    seen: dict[str, dict[str, Any]] = {}
    for name, runtime in runtimes.items():
        cid = unique_name(name)
        detached(user, runtime, cid)
        try:
            got: dict[str, Any] = {"status": state(user, runtime, cid)["status"]}
            ex = user.run([runtime, "exec", cid, "cat", "/proc/self/uid_map"])
            got["exec"] = (ex.returncode, ex.stdout.split())
            listed = user.run([runtime, "list", "-q"])
            got["listed"] = cid in listed.stdout.split()
            paused = user.run([runtime, "pause", cid])
            got["pause_refused"] = paused.returncode != 0
            got["pause_message"] = paused.stderr
            assert user.run([runtime, "kill", cid, "KILL"]).returncode == 0
            for _ in range(200):
                if state(user, runtime, cid)["status"] == "stopped":
                    break
                time.sleep(0.01)
            got["killed"] = state(user, runtime, cid)["status"]
        finally:
            deleted = user.run([runtime, "delete", "--force", cid])
        got["deleted"] = deleted.returncode
        root = user.xdg / name
        got["root_mode"] = stat.S_IMODE(root.stat().st_mode)
        got["left"] = os.listdir(root)
        seen[name] = got
    ours = seen["pyrunc"]
    assert ours["status"] == "running"
    assert ours["exec"] == (0, ["0", str(user.uid), "1"])
    assert ours["listed"] and ours["pause_refused"] and "freezer" in ours["pause_message"]
    assert ours["killed"] == "stopped" and ours["deleted"] == 0 and ours["left"] == []
    assert ours["root_mode"] == 0o1700
    if "runc" in seen:
        theirs = seen["runc"]
        for key in ("status", "exec", "listed", "pause_refused", "killed", "deleted", "left"):
            assert ours[key] == theirs[key], key
        assert theirs["root_mode"] == ours["root_mode"]


def _run_on_pty(user: RootlessUser, args: list[str], typed: bytes) -> tuple[int, str]:
    """Run ``args`` as the user with a terminal as its stdio, type ``typed``, collect."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            user.command(args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=user.bundle,
            start_new_session=True,
        )
        os.close(slave)
        slave = -1
        os.write(master, typed)
        chunks = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break  # EIO: every holder of the terminal is gone
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
        return code, b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_spec_rootless_bundle_runs_as_is(rootless_user: RootlessUser) -> None:
    """``pyrunc spec --rootless`` by the user, then ``pyrunc run`` of that bundle unchanged:
    a shell on a terminal, mapped to the user; as runc does with its own rootless spec."""
    user = rootless_user
    runtimes = {"pyrunc": user.pyrunc, "runc": RUNC} if RUNC else {"pyrunc": user.pyrunc}
    results = {}
    for name, runtime in runtimes.items():
        config = user.bundle / "config.json"
        config.unlink(missing_ok=True)
        assert user.run([runtime, "spec", "--rootless"], cwd=user.bundle).returncode == 0
        spec = json.loads(config.read_text())
        assert spec["process"]["terminal"] is True and spec["process"]["args"] == ["sh"]
        typed = b"cat /proc/self/uid_map; tty; exit 7\n"
        results[name] = _run_on_pty(user, [runtime, "run", unique_name(name)], typed)
    code, text = results["pyrunc"]
    assert code == 7, text
    assert f"0 {user.uid} 1" in " ".join(text.split())
    assert "/dev/pts/0" in text  # the container's own terminal
    if "runc" in results:
        assert results["runc"][0] == 7, results["runc"][1]
    assert os.listdir(user.state_root) == []
    config.unlink()


@needs_uidmap
def test_stdio_pipes_of_a_su_session_with_a_subordinate_root(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """The case where runc 1.1.5 fails: ``su USER -c 'runc run ID | cat'`` with the
    container's root mapped to a subordinate uid. runc's parent, attached and without a
    terminal, makes pipes of its own to relay stdio and fchowns them to the container
    root's host uid (``InitializeIO``): an unprivileged user cannot give a file away, so
    ``fchown fd N: operation not permitted`` (the init's fixStdioPermissions is not the
    culprit: it skips EPERM). pyrunc hands the caller's pipes on as they are and opens
    their mode to the container (the user owns them), so the program writes to them and
    can even reopen /dev/stdout; its exit status comes back."""
    user = rootless_user
    maps = [{"containerID": 0, "hostID": user.sub_start, "size": SUB_COUNT}]
    rootless_spec["linux"]["uidMappings"] = maps
    rootless_spec["linux"]["gidMappings"] = maps
    rootless_spec["process"]["args"] = [
        "sh",
        "-c",
        "echo via-fd; echo reopened > /dev/stdout; cat /proc/self/uid_map; exit 3",
    ]
    user.write_config(rootless_spec)
    env = " ".join(f"{k}={v}" for k, v in user.env().items())
    results = {}
    runtimes = {"pyrunc": user.pyrunc, "runc": RUNC} if RUNC else {"pyrunc": user.pyrunc}
    for name, runtime in runtimes.items():
        cid = unique_name(name)
        script = (
            f"cd {user.bundle} && export {env} && "
            f'{{ {runtime} run {cid} </dev/null; echo "rc=$?" >&2; }} | cat'
        )
        done = subprocess.run(
            ["su", "-s", "/bin/sh", user.name, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
        )
        results[name] = done
        user.run([runtime, "delete", "--force", cid])
    ours = results["pyrunc"]
    assert "rc=3" in ours.stderr, ours.stderr
    lines = ours.stdout.splitlines()
    assert lines[:2] == ["via-fd", "reopened"], ours.stdout
    assert lines[2].split() == ["0", str(user.sub_start), str(SUB_COUNT)]
    if "runc" in results:
        theirs = results["runc"]
        assert "rc=1" in theirs.stderr and "fchown fd" in theirs.stderr, theirs.stderr
        assert "operation not permitted" in theirs.stderr


def test_limit_without_delegation_fails_before_anything_is_made(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """A memory limit with no cgroup delegated: exit 1 and a message that says so, no
    state dir, no cgroup (runc fails only once its init exists: cannot set memory limit)."""
    user = rootless_user
    rootless_spec["process"]["args"] = ["true"]
    rootless_spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}}
    user.write_config(rootless_spec)
    cid = unique_name("nolimit")
    done = user.run([user.pyrunc, "run", cid], cwd=user.bundle)
    assert done.returncode == 1
    assert "invalid configuration" in done.stderr
    assert "need cgroups delegated to this user" in done.stderr
    assert "memory (memory)" in done.stderr
    assert os.listdir(user.state_root) == []
    own = Path("/proc/self/cgroup").read_text()  # the user's command ran in ours
    memory = next(line.split(":", 2)[2] for line in own.splitlines() if ":memory:" in line)
    assert not os.path.exists(f"/sys/fs/cgroup/memory{memory.rstrip('/')}/{cid}")


def test_no_xdg_runtime_dir_is_said_plainly(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """Without XDG_RUNTIME_DIR the default root is /run/pyrunc, which the user may not
    create: one line saying what to do."""
    user = rootless_user
    done = user.run(["env", "-u", "XDG_RUNTIME_DIR", user.pyrunc, "list"], cwd=user.bundle)
    assert done.returncode == 1
    assert "XDG_RUNTIME_DIR" in done.stderr and "/run/pyrunc" in done.stderr
    # spec needs no state root: it works all the same.
    (user.home / "nostate").mkdir(exist_ok=True)
    os.chown(user.home / "nostate", user.uid, user.gid)
    spec = user.run(
        ["env", "-u", "XDG_RUNTIME_DIR", user.pyrunc, "spec", "--rootless"],
        cwd=user.home / "nostate",
    )
    assert spec.returncode == 0, spec.stderr
    assert (user.home / "nostate" / "config.json").exists()


def test_delegated_lifecycle_with_limits_pause_and_resume(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """From inside a delegated subtree: run -d with limits, pause and resume through the
    freezer, exec into it, kill, delete; the container's cgroups (below the delegated
    ones) are gone after, the delegated ones stay."""
    user = rootless_user
    rootless_spec["process"]["args"] = ["sleep", "60"]
    rootless_spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 32}}
    user.write_config(rootless_spec)
    cid = unique_name("deleg")
    with delegated(user) as d:
        detached(user, user.pyrunc, cid, delegation=d)
        try:
            saved = json.loads((user.state_root / cid / "state.json").read_text())
            paths = saved["cgroup_paths"]
            assert set(paths) == set(d.dirs)
            limit = Path(paths["memory"], "memory.limit_in_bytes").read_text().strip()
            assert limit == str(64 << 20)
            assert user.run([user.pyrunc, "pause", cid]).returncode == 0
            assert state(user, user.pyrunc, cid)["status"] == "paused"
            assert Path(paths["freezer"], "freezer.state").read_text().strip() == "FROZEN"
            assert user.run([user.pyrunc, "resume", cid]).returncode == 0
            assert state(user, user.pyrunc, cid)["status"] == "running"
            ex = user.run([user.pyrunc, "exec", cid, "cat", "/proc/self/uid_map"])
            assert ex.stdout.split() == ["0", str(user.uid), "1"]
            assert user.run([user.pyrunc, "kill", cid, "KILL"]).returncode == 0
        finally:
            done = user.run([user.pyrunc, "delete", "--force", cid])
        assert done.returncode == 0, done.stderr
        assert [p for p in paths.values() if os.path.isdir(p)] == []
        assert all(os.path.isdir(p) for p in d.dirs.values())


def test_ownership_rules_hold_for_an_unprivileged_user(
    rootless_user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """The lifecycle core's proofs, as the user: a state.json pointing at another process
    of the user's (a forged init) is refused by kill; one pointing at the delegated cgroup
    (the user's by uid, but unmarked where marks stick) is not removed or emptied by
    delete, whose bystander lives on."""
    user = rootless_user
    rootless_spec["process"]["args"] = ["sleep", "60"]
    user.write_config(rootless_spec)
    cid = unique_name("forged")
    with delegated(user) as d:
        bystander = subprocess.Popen(
            user.command(["sleep", "300"]), preexec_fn=d.join_self, stdin=subprocess.DEVNULL
        )
        victim = 0
        try:
            for _ in range(200):  # runuser's child: the user's sleep
                kids = Path(f"/proc/{bystander.pid}/task/{bystander.pid}/children")
                victims = kids.read_text().split() if kids.exists() else []
                if victims:
                    break
                time.sleep(0.01)
            victim = int(victims[0])
            detached(user, user.pyrunc, cid, delegation=d)
            state_file = user.state_root / cid / "state.json"
            real = json.loads(state_file.read_text())

            forged = dict(real, init_process_pid=victim, init_process_start=start_time(victim))
            state_file.write_text(json.dumps(forged))
            killed = user.run([user.pyrunc, "kill", cid, "KILL"])
            assert killed.returncode == 1 and "not provably" in killed.stderr
            assert is_alive(victim)

            paths = dict(real["cgroup_paths"], freezer=d.dirs["freezer"])
            state_file.write_text(json.dumps(dict(real, cgroup_paths=paths)))
            done = user.run([user.pyrunc, "delete", "--force", cid])
            assert done.returncode == 0, done.stderr
            assert is_alive(victim)
            assert os.path.isdir(d.dirs["freezer"])
            assert str(victim) in Path(d.dirs["freezer"], "cgroup.procs").read_text().split()
            assert not (user.state_root / cid).exists()
        finally:
            user.run([user.pyrunc, "delete", "--force", cid])
            if victim:  # our runuser's child: the test's own
                os.kill(victim, signal.SIGKILL)
            bystander.send_signal(signal.SIGKILL)
            bystander.wait()
