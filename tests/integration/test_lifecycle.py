"""A container's whole life, observed from inside and outside (issue 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, run_output, unique_id

from libcontainer import Process, Status
from libcontainer.errors import (
    ContainerExistsError,
    ContainerNotStoppedError,
    HookError,
    InvalidIdError,
    ProcessStartError,
)

pytestmark = pytest.mark.root


def cap_mask(names: list[str]) -> int:
    from libcontainer.capabilities import to_mask

    return to_mask(names)


def test_echo_and_exit_code(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    out, code = run_output(c, ["sh", "-c", "echo hello; exit 3"])
    assert out == "hello\n"
    assert code == 3
    assert c.status() == Status.STOPPED


def test_inside_view_matches_config(containers: Factories, make_config: Any) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["hostname"] = "inside"
        spec["process"]["env"].append("GREETING=hi")
        spec["process"]["cwd"] = "/tmp"
        spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}]

    c = containers.create(make_config(edit))
    script = textwrap.dedent(
        """
        echo host=$(hostname)
        echo pid=$$
        echo cwd=$(pwd)
        echo greeting=$GREETING
        echo nofile=$(ulimit -n)
        grep -E '^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/self/status
        echo uidmap=$(cat /proc/self/uid_map | tr -s ' ')
        echo cmdline=$(tr '\\0' ' ' < /proc/1/cmdline)
        """
    )
    out, code = run_output(c, ["sh", "-c", script])
    assert code == 0, out
    lines = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    fields = dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)
    assert lines["host"] == "inside"
    assert lines["pid"] == "1"
    assert lines["cwd"] == "/tmp"
    assert lines["greeting"] == "hi"
    assert lines["nofile"] == "256"
    expected = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert int(fields[key], 16) == expected, (key, fields[key])
    assert int(fields["CapInh"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert lines["uidmap"].strip() == "0 0 4294967295"
    assert lines["cmdline"].startswith("sh -c")


def test_mounts_masked_and_readonly_paths(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    script = textwrap.dedent(
        """
        grep -E ' /(proc|dev|dev/pts|dev/shm|dev/mqueue|sys) ' /proc/self/mountinfo |
            awk '{print $5, $9}'
        echo keys=$(wc -c < /proc/keys)
        echo timer=$(wc -c < /proc/timer_list)
        echo acpi=$(ls /proc/acpi | wc -l)
        if echo 1 > /proc/sys/kernel/domainname 2>/dev/null
        then echo sys=writable
        else echo sys=readonly
        fi
        ls -l /dev/null | cut -c1
        readlink /dev/fd
        """
    )
    out, code = run_output(c, ["sh", "-c", script])
    assert code == 0, out
    mounts = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.startswith("/") and len(line.split()) == 2
    }
    assert mounts.get("/proc") == "proc"
    assert mounts.get("/dev") == "tmpfs"
    assert mounts.get("/dev/pts") == "devpts"
    assert mounts.get("/dev/mqueue") == "mqueue"
    assert mounts.get("/sys") == "sysfs"
    # Masked: files read as /dev/null, directories as an empty tmpfs (host has both).
    assert "keys=0" in out and "timer=0" in out and "acpi=0" in out
    assert "sys=readonly" in out
    assert "\nc\n" in out
    assert "/proc/self/fd" in out


def test_user_and_groups_from_container_passwd(containers: Factories, make_config: Any) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [29]}

    c = containers.create(make_config(edit))
    out, code = run_output(c, ["id"])
    assert code == 0, out
    assert "uid=1000(alice)" in out and "gid=1000(alice)" in out and "29(audio)" in out
    c2 = containers.create(make_config())
    out, code = run_output(c2, ["id"], user="alice")
    assert code == 0, out
    assert "uid=1000(alice)" in out and "100(users)" in out


def test_statuses_state_json_and_create_start_dance(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    c = containers.create(make_config())
    assert c.status() == Status.STOPPED
    proc = Process(
        ["sh", "-c", "read line; echo got $line"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    c.start(proc)
    assert c.status() == Status.CREATED
    state = json.loads((state_root / c.id / "state.json").read_text())
    assert state["id"] == c.id
    assert state["init_process_pid"] == proc.pid
    assert state["init_process_start"] > 0
    assert set(state["namespace_paths"]) >= {"NEWPID", "NEWNET", "NEWNS", "NEWIPC", "NEWUTS"}
    assert state["cgroup_paths"]["memory"].endswith("/" + c.config.cgroups.name)
    oci = c.oci_state()
    assert oci["status"] == "created" and oci["pid"] == proc.pid and oci["id"] == c.id
    fixtures = Path(os.environ["PYLIBCONTAINER_FIXTURES"])
    fixture = json.loads((fixtures / "runc-1.1.5-state-command.json").read_text())
    assert list(oci) == list(fixture)  # the same keys in the same order as `runc state`
    assert oci["rootfs"] == c.config.rootfs and oci["bundle"] == c.bundle
    assert (state_root / c.id / "exec.fifo").exists()
    c.exec()
    assert c.status() == Status.RUNNING
    assert not (state_root / c.id / "exec.fifo").exists()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"ping\n")
    proc.stdin.close()
    assert proc.stdout.read() == b"got ping\n"
    assert proc.wait() == 0
    assert c.status() == Status.STOPPED
    with pytest.raises(ContainerNotStoppedError):
        c.start(Process(["true"]))


def test_pause_resume_and_processes(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    proc = Process(["sh", "-c", "while :; do echo tick; sleep 0.05; done"], stdout=subprocess.PIPE)
    c.run(proc)
    assert proc.stdout is not None
    proc.stdout.readline()
    assert proc.pid in c.processes()
    c.pause()
    assert c.status() == Status.PAUSED
    freezer = Path(c.cgroup_manager.path("freezer")) / "freezer.state"  # type: ignore[union-attr]
    assert freezer.read_text().strip() == "FROZEN"
    c.resume()
    assert c.status() == Status.RUNNING
    assert proc.stdout.readline() == b"tick\n"
    c.signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def test_signal_reaches_init_with_a_handler(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    proc = Process(
        ["sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"],
        stdout=subprocess.PIPE,
    )
    c.run(proc)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    c.signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 42


def test_exec_into_running_container(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config(lambda s: s.update(hostname="execbox")))
    init = Process(["sh", "-c", "echo up; sleep 1000"], stdout=subprocess.PIPE)
    c.run(init)
    assert init.stdout is not None and init.stdout.readline() == b"up\n"
    ex = Process(
        ["sh", "-c", "hostname; echo $FOO; pwd; id -u; ps -o pid,args | grep -c 'sleep 1000'"],
        init=False,
        env=["PATH=/bin", "FOO=bar"],
        cwd="/tmp",
        user="1000:1000",
        stdout=subprocess.PIPE,
    )
    c.start(ex)
    assert ex.stdout is not None
    out = ex.stdout.read().decode().split()
    assert ex.wait() == 0
    assert out[:4] == ["execbox", "bar", "/tmp", "1000"]
    assert int(out[4]) >= 1  # the init's sleep is visible: same PID namespace
    assert ex.pid is not None
    c.destroy()
    assert init.wait() == -signal.SIGKILL


def test_missing_binary_fails_cleanly(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    config = make_config()
    c = containers.create(config)
    with pytest.raises(ProcessStartError, match=r'exec: "nope": executable file not found'):
        c.run(Process(["nope"]))
    assert c.status() == Status.STOPPED
    # Back to unstarted: the state on disk says so (init pid 0), loadable from anywhere.
    assert json.loads((state_root / c.id / "state.json").read_text())["init_process_pid"] == 0
    for path in c.cgroup_manager.get_paths().values():  # type: ignore[union-attr]
        assert not os.path.exists(path), path
    # The container can still be started after the failure.
    out, code = run_output(c, ["echo", "second try"])
    assert (out, code) == ("second try\n", 0)


def test_destroy_leaves_nothing_and_is_idempotent(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    c = containers.create(make_config())
    proc = Process(["sleep", "1000"])
    c.run(proc)
    paths = dict(c.cgroup_manager.get_paths())  # type: ignore[union-attr]
    pid = proc.pid
    c.destroy()
    c.destroy()
    assert proc.returncode == -signal.SIGKILL
    assert not os.path.exists(f"/proc/{pid}")
    assert not (state_root / c.id).exists()
    for path in paths.values():
        assert not os.path.exists(path), path


def test_ids_and_duplicates(containers: Factories, make_config: Any) -> None:
    config = make_config()
    for bad in ("../../etc", "a/b", "", ".", ".."):
        with pytest.raises(InvalidIdError):
            containers.factory.create(bad, config)
    c = containers.create(config)
    with pytest.raises(ContainerExistsError):
        containers.factory.create(c.id, config)


def test_load_from_another_process(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    c = containers.create(make_config())
    proc = Process(["sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.05; done"])
    c.start(proc)
    script = textwrap.dedent(
        f"""
        import signal, subprocess
        from libcontainer import Factory, Process
        c = Factory({str(state_root)!r}).load({c.id!r})
        print(c.status().value)
        c.exec()
        p = Process(["echo", "from exec"], init=False, stdout=subprocess.PIPE)
        c.start(p)
        print(p.stdout.read().decode().strip(), p.wait())
        c.signal(signal.SIGUSR1)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["created", "from exec 0"]
    assert proc.wait(timeout=10) == 7
    destroy = (
        f"from libcontainer import Factory; Factory({str(state_root)!r}).load({c.id!r}).destroy()"
    )
    subprocess.run([sys.executable, "-c", destroy], check=True, timeout=60)
    assert not (state_root / c.id).exists()


def test_twenty_containers_from_threads(containers: Factories, make_config: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    configs = [make_config() for _ in range(20)]

    def one(i: int) -> tuple[str, int]:
        c = containers.create(configs[i])
        return run_output(c, ["sh", "-c", f"echo n{i}"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(20)))
    assert results == [(f"n{i}\n", 0) for i in range(20)]


def test_user_namespace_with_mapped_ids(
    containers: Factories, make_config: Any, bundle: Path
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"]

    subprocess.run(["chown", "-R", "100000:100000", str(bundle / "rootfs")], check=True)
    # The mapped root must be able to reach its rootfs (as with runc): open up the parents.
    for parent in (bundle / "rootfs").parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    c = containers.create(make_config(edit))
    out, code = run_output(c, ["sh", "-c", "cat /proc/self/uid_map; id -u; touch /x && echo ok"])
    assert code == 0, out
    assert out.split()[:3] == ["0", "100000", "65536"]
    assert "ok" in out
    assert (bundle / "rootfs" / "x").stat().st_uid == 100000


def test_join_network_namespace_by_path(containers: Factories, make_config: Any) -> None:
    first = containers.create(make_config())
    init = Process(["sleep", "1000"])
    first.run(init)
    assert init.pid is not None
    netns = f"/proc/{init.pid}/ns/net"

    def edit(spec: dict[str, Any]) -> None:
        for ns in spec["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = netns

    second = containers.create(make_config(edit))
    out, code = run_output(second, ["readlink", "/proc/self/ns/net"])
    assert code == 0
    assert out.strip() == os.readlink(netns)


def test_hooks_see_state_and_poststop_runs(
    containers: Factories, make_config: Any, tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"

    def edit(spec: dict[str, Any]) -> None:
        hook = {"path": "/bin/sh", "args": ["sh", "-c", f"cat >> {log}; echo >> {log}"]}
        spec["hooks"] = {"prestart": [hook], "poststart": [hook], "poststop": [hook]}

    c = containers.create(make_config(edit))
    proc = Process(["true"])
    c.run(proc)
    proc.wait()
    c.destroy()
    states = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert [s["status"] for s in states] == ["creating", "running", "stopped"]
    assert states[0]["pid"] == proc.pid and states[0]["id"] == c.id


def test_failing_prestart_hook_aborts_and_cleans_up(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["hooks"] = {"prestart": [{"path": "/bin/false"}]}

    c = containers.create(make_config(edit))
    with pytest.raises(HookError, match=r"error running hook #0 \(prestart /bin/false\)"):
        c.run(Process(["true"]))
    assert c.status() == Status.STOPPED
    assert c.processes() == []
    assert json.loads((state_root / c.id / "state.json").read_text())["init_process_pid"] == 0


def test_terminal_gives_the_caller_a_pty(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    proc = Process(["sh", "-c", "tty; echo done"], terminal=True)
    c.run(proc)
    assert proc.console is not None
    data = b""
    deadline = time.monotonic() + 10
    while b"done" not in data and time.monotonic() < deadline:
        try:
            chunk = os.read(proc.console.fileno(), 1024)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    assert proc.wait() == 0
    assert b"/dev/pts/0" in data or b"/dev/console" in data, data


def test_console_socket_receives_the_pty(
    containers: Factories, make_config: Any, tmp_path: Path
) -> None:
    import socket
    import threading

    from libcontainer.console import recv_console

    path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    got: dict[str, Any] = {}

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            got["name"], got["fd"] = recv_console(conn)

    t = threading.Thread(target=accept)
    t.start()
    c = containers.create(make_config())
    proc = Process(["sh", "-c", "echo via-socket; tty"], terminal=True, console_socket=path)
    try:
        c.run(proc)
        t.join(10)
        assert proc.console is None
        data = b""
        while True:
            try:
                chunk = os.read(got["fd"], 1024)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        assert proc.wait() == 0
        assert b"via-socket" in data and b"/dev/" in data
    finally:
        server.close()
        if "fd" in got:
            os.close(got["fd"])


def test_caller_killed_mid_create_leaves_nothing(
    make_config: Any, state_root: Path, tmp_path: Path
) -> None:
    """SIGKILL the creating process while a prestart hook runs: the spawner undoes it all."""
    started = tmp_path / "hook-started"

    def edit(spec: dict[str, Any]) -> None:
        spec["hooks"] = {
            "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", f"touch {started}; sleep 1"]}]
        }

    config = make_config(edit)
    cid = unique_id()
    config_json = tmp_path / "config.json"
    from libcontainer.configs import config_to_json

    config_json.write_text(config_to_json(config))
    script = textwrap.dedent(
        f"""
        from libcontainer import Factory, Process
        from libcontainer.configs import config_from_json
        config = config_from_json(open({str(config_json)!r}).read())
        c = Factory({str(state_root)!r}).create({cid!r}, config)
        c.start(Process(["true"]))
        """
    )
    creator = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline, "the hook never ran"
            assert creator.poll() is None, "the creator exited early"
            time.sleep(0.01)
        creator.kill()
    finally:
        creator.wait()
    from libcontainer.cgroups import new_manager

    paths = new_manager(config.cgroups).get_paths().values()  # type: ignore[arg-type]
    deadline = time.monotonic() + 15
    while (state_root / cid).exists() or any(os.path.exists(p) for p in paths):
        assert time.monotonic() < deadline, "state dir or cgroups were left behind"
        time.sleep(0.05)
    time.sleep(1.2)  # let the orphaned hook's sleep finish


def test_preserved_fds_arrive_as_3_and_up_and_nothing_else_leaks(
    containers: Factories, make_config: Any
) -> None:
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    stray = os.open("/", os.O_RDONLY)  # an fd of the caller that must not leak in
    try:
        c = containers.create(make_config())
        proc = Process(
            ["sh", "-c", "echo one >&3; echo two >&4; ls /proc/self/fd | sort -n | tr '\\n' ' '"],
            env=["PATH=/bin", "LISTEN_FDS=2"],
            pass_fds=[w1, w2],
            stdout=subprocess.PIPE,
        )
        c.run(proc)
        os.close(w1)
        os.close(w2)
        assert proc.stdout is not None
        fds = proc.stdout.read().decode().split()
        assert proc.wait() == 0
        assert os.read(r1, 100) == b"one\n"
        assert os.read(r2, 100) == b"two\n"
        # 0-2, the two preserved ones, and the fd ls uses to read the directory.
        assert fds[:5] == ["0", "1", "2", "3", "4"] and len(fds) <= 6, fds
    finally:
        for fd in (r1, r2, stray):
            os.close(fd)


def test_routes_are_set_in_the_container_network_namespace(
    containers: Factories, make_config: Any
) -> None:
    import attrs

    from libcontainer.configs import Route

    config = attrs.evolve(
        make_config(),
        routes=(Route(destination="10.99.0.0/16", interface_name="lo"),),
    )
    c = containers.create(config)
    out, code = run_output(c, ["ip", "route"])
    assert code == 0, out
    assert "10.99.0.0/16 dev lo" in out
    assert "10.99.0.0" not in subprocess.run(["ip", "route"], capture_output=True, text=True).stdout


def test_destroy_a_paused_container(containers: Factories, make_config: Any) -> None:
    """Frozen tasks ignore SIGKILL until thawed: destroy must not hang on a paused one."""
    c = containers.create(make_config())
    proc = Process(["sleep", "1000"])
    c.run(proc)
    ex = Process(["sleep", "999"], init=False)
    c.start(ex)
    c.pause()
    c.destroy()  # a hang here is caught by pytest-timeout
    assert proc.returncode == -signal.SIGKILL
    assert ex.wait(timeout=10) == -signal.SIGKILL


def test_cgroup_files_seen_from_inside(containers: Factories, make_config: Any) -> None:
    """The container's /sys/fs/cgroup shows its own cgroups, with the configured limits."""

    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["resources"]["pids"] = {"limit": 123}
        spec["linux"]["resources"]["memory"] = {"limit": 256 * 1024 * 1024}

    c = containers.create(make_config(edit))
    out, code = run_output(
        c,
        [
            "sh",
            "-c",
            "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes;"
            " grep -c $$ /sys/fs/cgroup/pids/cgroup.procs;"
            " touch /sys/fs/cgroup/pids/x 2>/dev/null || echo read-only",
        ],
    )
    assert code == 0, out
    assert out.split() == ["123", str(256 * 1024 * 1024), "1", "read-only"]


def test_verbs_reuse_the_managers_view_of_the_host(
    containers: Factories, make_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """start, exec and destroy prove cgroups against the mount table the container's
    manager read at create: none reads it again."""
    from libcontainer.cgroups.host import HostCgroups

    c = containers.create(make_config())
    assert c.cgroup_manager is not None

    def no_reading() -> HostCgroups:
        raise AssertionError("the host's cgroup mounts were read again")

    monkeypatch.setattr(HostCgroups, "load", staticmethod(no_reading))
    p = Process(["true"])
    c.run(p)
    assert p.wait() == 0
    assert c.status() == Status.STOPPED
    c.destroy()
    assert not any(os.path.exists(path) for path in c.cgroup_manager.get_paths().values())
