"""State that survives crashes and bad files, as runc's does; and verbs racing on one container."""

from __future__ import annotations

import gc
import json
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, unique_id
from test_cli_helpers import Cli, pyrunc_binary

from libcontainer import Factory, Process
from libcontainer.configs import config_to_json
from libcontainer.errors import ContainerNotExistsError

pytestmark = pytest.mark.root
REPO = str(Path(__file__).resolve().parents[2])


def _python(script: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {REPO!r})\n{script}"],
        text=True,
        **kwargs,
    )


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.01)


def test_an_unstarted_container_is_loaded_started_and_destroyed_elsewhere(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    cid = unique_id()
    c = containers.factory.create(cid, make_config())
    del c
    gc.collect()  # dropping the object changes nothing on disk
    assert (state_root / cid / "state.json").exists()
    script = textwrap.dedent(
        f"""
        import subprocess
        from libcontainer import Factory, Process
        c = Factory({str(state_root)!r}).load({cid!r})
        print(c.status().value, flush=True)
        p = Process(["sh", "-c", "echo ran"], stdout=subprocess.PIPE)
        c.run(p)
        print(p.stdout.read().decode().strip(), p.wait(), flush=True)
        c.destroy()
        """
    )
    proc = _python(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.split("\n")[:2] == ["stopped", "ran 0"]
    assert not (state_root / cid).exists()
    with pytest.raises(ContainerNotExistsError):
        containers.factory.load(cid)


def _settled(factory: Factory, cid: str) -> str:
    """``nothing`` or ``loadable`` (then destroyed); anything else fails the test."""
    if not (factory.root / cid).exists():
        return "nothing"
    factory.load(cid).destroy()  # must load, whatever moment the creator died at
    assert not (factory.root / cid).exists()
    return "loadable"


def test_a_creator_killed_at_any_moment_leaves_a_loadable_container_or_nothing(
    make_config: Any, state_root: Path, tmp_path: Path
) -> None:
    """SIGKILL the process doing Factory.create + start + exec at 30 random moments."""
    config_json = tmp_path / "config.json.lib"
    config = make_config()
    config_json.write_text(config_to_json(config))
    factory = Factory(state_root)
    from libcontainer.cgroups import new_manager

    assert config.cgroups is not None
    cgroup_dirs = list(new_manager(config.cgroups).get_paths().values())
    rng = random.Random(9)
    outcomes: list[str] = []
    for _ in range(30):
        cid = unique_id()
        script = textwrap.dedent(
            f"""
            from libcontainer import Factory, Process
            from libcontainer.configs import config_from_json
            factory = Factory({str(state_root)!r})
            config = config_from_json(open({str(config_json)!r}).read())
            factory.spawner  # started before the signal to go, like any warm caller
            print("ready", flush=True)
            sys.stdin.readline()
            c = factory.create({cid!r}, config)
            c.run(Process(["sleep", "1000"], stdin=-3, stdout=-3, stderr=-3))
            print("done", flush=True)
            sys.stdin.readline()
            """
        )
        creator = _python(script, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert creator.stdout is not None and creator.stdin is not None
        assert creator.stdout.readline() == "ready\n"
        helpers = _children(creator.pid)
        creator.stdin.write("go\n")
        creator.stdin.flush()
        time.sleep(rng.uniform(0, 0.06))
        creator.kill()
        creator.wait()
        _wait_gone(helpers)  # the spawner notices its caller died and undoes a half start
        outcomes.append(_settled(factory, cid))
        assert not any(os.path.exists(p) for p in cgroup_dirs), outcomes
    # Both outcomes happened: the moments covered the whole create.
    assert {"nothing", "loadable"} <= set(outcomes), outcomes


def test_a_cli_create_killed_at_any_moment_leaves_a_loadable_container_or_nothing(
    busybox_rootfs: Path, state_root: Path
) -> None:
    from test_cli_helpers import make_bundle

    bundle = make_bundle(busybox_rootfs.parent, ["sleep", "1000"])
    cli = Cli(state_root)
    rng = random.Random(11)
    outcomes = []
    try:
        for trial in range(16):
            cid = unique_id()
            proc = subprocess.Popen(
                [pyrunc_binary(), "--root", str(state_root), "create", "-b", str(bundle), cid],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if trial % 2:  # somewhere in start-up and argument parsing
                time.sleep(rng.uniform(0, 0.3))
            else:  # somewhere once the container exists: spawning, cgroups, the init's setup
                while not (state_root / cid).exists() and proc.poll() is None:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.05))
            proc.kill()
            proc.wait()
            if not (state_root / cid).exists():
                outcomes.append("nothing")
                continue
            state = cli("state", cid)
            assert state.returncode == 0, state.stderr
            deleted = cli("delete", "--force", cid)
            assert deleted.returncode == 0, deleted.stderr
            assert not (state_root / cid).exists()
            outcomes.append("loadable")
        assert "loadable" in outcomes, outcomes
    finally:
        cli.cleanup()


CORRUPT = {
    "empty": "",
    "truncated": '{"id": "bad", "init_process_pid": 12',
    "a-list": "[]",
    "no-config": '{"id": "bad"}',
    "config-is-a-string": '{"id": "bad", "config": "x"}',
    "pid-is-a-string": '{"id": "bad", "init_process_pid": "12", "config": {}}',
    "huge-pid": '{"id": "bad", "init_process_pid": ' + "9" * 5000 + ', "config": {}}',
    "bad-namespaces": '{"id": "bad", "config": {"namespaces": [{"type": 5}]}}',
    "cgroup-paths-list": '{"id": "bad", "cgroup_paths": ["/"], "config": {}}',
    "another-id": '{"id": "other", "config": {}}',
    "nested": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_a_corrupt_container_never_hides_the_others(
    cli_root_with_a_good_container: tuple[Cli, str], kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    cli, good = cli_root_with_a_good_container
    bad_dir = cli.root / "bad"
    bad_dir.mkdir()
    (bad_dir / "state.json").write_text(CORRUPT[kind])
    try:
        listed = cli("list", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        assert [c["id"] for c in json.loads(listed.stdout)] == [good]
        assert listed.stderr.startswith("load container bad: ")
        assert listed.stderr.count("\n") == 1
        with caplog.at_level(logging.WARNING, logger="libcontainer"):
            assert Factory(cli.root).list() == [good]
        assert any("bad" in r.getMessage() for r in caplog.records)
        for verb in (["state", "bad"], ["delete", "bad"], ["kill", "bad"]):
            result = cli(*verb)
            assert result.returncode == 1
            line = result.stderr.strip()
            assert "\n" not in line, result.stderr
            assert str(bad_dir / "state.json") in line, line
            assert "Traceback" not in line and "object has no attribute" not in line, line
            assert len(line) < 600, line
        forced = cli("delete", "--force", "bad")
        assert forced.returncode == 0, forced.stderr
        assert "removing only its state directory" in forced.stderr
        assert not bad_dir.exists()
        assert cli.state(good)["status"] == "running"
    finally:
        import shutil

        shutil.rmtree(bad_dir, ignore_errors=True)


@pytest.fixture
def cli_root_with_a_good_container(state_root: Path, busybox_rootfs: Path) -> Any:
    from test_cli_helpers import make_bundle

    bundle = make_bundle(busybox_rootfs.parent, ["sleep", "1000"])
    cli = Cli(state_root)
    good = unique_id()
    rc, _, err = cli.detached("run", "-d", "-b", str(bundle), good, cid=good)
    assert rc == 0, err.read_text()
    try:
        yield cli, good
    finally:
        cli.cleanup()


ALLOWED = {
    "ContainerNotExistsError",
    "ContainerNotRunningError",
    "ContainerNotPausedError",
    "ContainerPausedError",
    "ContainerNotStoppedError",
    "InvalidStateError",
}

RACER = """
import json, random, signal, sys
from libcontainer import Factory
from libcontainer.errors import LibcontainerError
factory = Factory(ROOT)
rng = random.Random(SEED)
seen = {}
for i in range(ROUNDS):
    verb = rng.choice(["pause", "resume", "kill", "state", "set"])
    if DESTROYER and i == ROUNDS // 2:
        verb = "destroy"
    try:
        c = factory.load(CID)
        if verb == "pause":
            c.pause()
        elif verb == "resume":
            c.resume()
        elif verb == "kill":
            c.signal(signal.SIGCONT)
        elif verb == "state":
            c.oci_state()
        elif verb == "set":
            c.set(c.config)
        elif verb == "destroy":
            c.destroy()
        outcome = "ok"
    except LibcontainerError as e:
        outcome = type(e).__name__
    seen[outcome] = seen.get(outcome, 0) + 1
print(json.dumps(seen))
"""


def test_many_processes_racing_on_one_container(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    """kill, pause, resume, update, state and one destroy from 6 processes at once: only
    documented typed errors, state.json never torn, nothing left behind."""
    c = containers.create(make_config())
    init = Process(["sleep", "1000"])
    c.run(init)
    cid = c.id
    paths = c.cgroup_manager.get_paths() if c.cgroup_manager else {}
    state_file = state_root / cid / "state.json"
    torn: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                data = state_file.read_text()
            except FileNotFoundError:
                continue
            try:
                json.loads(data)
            except ValueError:
                torn.append(data[:80])

    t = threading.Thread(target=reader)
    t.start()
    racers = []
    for n in range(6):
        script = (
            RACER.replace("ROOT", repr(str(state_root)))
            .replace("CID", repr(cid))
            .replace("SEED", str(n))
            .replace("ROUNDS", "40")
            .replace("DESTROYER", "True" if n == 0 else "False")
        )
        racers.append(_python(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results: dict[str, int] = {}
    try:
        for racer in racers:
            out, err = racer.communicate(timeout=180)
            assert racer.returncode == 0, err
            for outcome, count in json.loads(out).items():
                results[outcome] = results.get(outcome, 0) + count
    finally:
        stop.set()
        t.join()
    assert not torn, torn
    assert set(results) - {"ok"} <= ALLOWED, results
    assert results.get("ok", 0) > 0 and results.get("ContainerNotExistsError", 0) > 0, results
    assert init.wait(timeout=30) == -signal.SIGKILL
    assert not (state_root / cid).exists()
    assert not any(os.path.exists(p) for p in paths.values())
