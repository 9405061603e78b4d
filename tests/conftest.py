"""Shared fixtures: a real busybox rootfs, bundles, and a session-end leak check.

The leak check is the suite's promise to the machine it runs on: after the last test there
must be no mount, cgroup, process, network namespace, state directory or user (with its
subordinate ids) that a test made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from testrun import RUN_TOKEN, TMP_PREFIX

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
# The reference files (runc's real outputs, see fixtures/README.md) live with the tests, so
# a clone or an sdist tests on its own. Test modules read this variable.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
os.environ["PYLIBCONTAINER_FIXTURES"] = str(FIXTURES)
IS_ROOT = os.geteuid() == 0

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
alice:x:1000:1000:Alice:/home/alice:/bin/sh
"""
GROUP = """root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:alice
alice:x:1000:
audio:x:29:alice
nogroup:x:65534:
"""


def build_busybox_rootfs(dest: Path) -> Path:
    """Build a minimal rootfs from Debian's busybox-static into ``dest``."""
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static is not installed (apt-get install busybox-static)")
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home/alice", "var"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        link = dest / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (dest / "etc" / "passwd").write_text(PASSWD)
    (dest / "etc" / "group").write_text(GROUP)
    (dest / "etc" / "hostname").write_text("busybox\n")
    return dest


@pytest.fixture(scope="session")
def busybox_rootfs_template() -> Iterator[Path]:
    """A read-only-by-convention busybox rootfs shared by the session; copy it to write."""
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "template-"))
    try:
        yield build_busybox_rootfs(base / "rootfs")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def busybox_rootfs(busybox_rootfs_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the busybox rootfs for one test."""
    dest = tmp_path_factory.mktemp("bundle") / "rootfs"
    subprocess.run(["cp", "-a", str(busybox_rootfs_template), str(dest)], check=True)
    return dest


@pytest.fixture
def state_root() -> Iterator[Path]:
    """A factory root (state directory) for one test, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "state-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    # Children must not inherit the runner's tmp dirs under /tmp with our prefix name clash.
    os.environ.setdefault("PYLIBCONTAINER_TEST", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip_root = pytest.mark.skip(reason="needs root: real namespaces, mounts and cgroups")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip_root)


# --- session-end leak check -------------------------------------------------------------


# Only what this run made counts (see testrun.py): its token is in every name it uses, and
# pytest's own temporary directories of this run live under its basetemp.


def _ours(name: str) -> bool:
    return RUN_TOKEN in name or (_BASETEMP is not None and name.startswith(_BASETEMP))


def _our_mounts() -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mountpoint = line.split()[4]
            if _ours(mountpoint):
                found.append(mountpoint)
    return found


def _cgroup_dirs() -> set[str]:
    found: set[str] = set()
    root = "/sys/fs/cgroup"
    if not os.path.isdir(root):
        return found
    for dirpath, dirnames, _ in os.walk(root):
        depth = dirpath[len(root) :].count("/")
        if depth >= 6:
            dirnames[:] = []
        for d in dirnames:
            if RUN_TOKEN in d:
                found.add(os.path.join(dirpath, d))
    return found


def _netns() -> set[str]:
    try:
        return {name for name in os.listdir("/run/netns") if RUN_TOKEN in name}
    except FileNotFoundError:
        return set()


def _users() -> list[str]:
    """Users (and their subordinate id lines) this run made: the rootless tests' own."""
    found = []
    for path in ("/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid"):
        try:
            with open(path) as f:
                found += [f"{path}: {line.split(':')[0]}" for line in f if RUN_TOKEN in line]
        except OSError:
            continue
    return found


def _children() -> list[str]:
    me = str(os.getpid())
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmd = "?"
            out.append(f"{pid} {fields[0]} {cmd}")
    return out


_BEFORE: dict[str, object] = {}
_BASETEMP: str | None = None
# Which test a leftover cgroup first appeared after (so a leak names its test).
_FIRST_SEEN: dict[str, str] = {}
# The host's device nodes a container may see bound in: no test may change them.
_HOST_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


def _node_facts() -> dict[str, tuple[int, int, int, int]]:
    facts = {}
    for path in _HOST_NODES:
        try:
            st = os.stat(path)
        except OSError:
            continue
        facts[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_rdev)
    return facts


@pytest.fixture(autouse=True)
def _attribute_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test: note cgroups of this run that appeared (cheap: a few hundred
    directories), and fail the test outright if it changed a host device node."""
    nodes = _node_facts()
    yield
    for path in _cgroup_dirs():
        _FIRST_SEEN.setdefault(path, request.node.nodeid)
    changed = {p for p, f in _node_facts().items() if nodes.get(p) != f}
    if changed:
        pytest.fail(f"the test changed host device nodes: {sorted(changed)}")


def pytest_sessionstart(session: pytest.Session) -> None:
    global _BASETEMP
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        _BASETEMP = str(factory.getbasetemp()) + "/"
    _BEFORE["cgroups"] = _cgroup_dirs()
    _BEFORE["netns"] = _netns()
    _BEFORE["tmp"] = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith(TMP_PREFIX)}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the tests left anything behind on the machine."""
    if os.environ.get("PYLIBCONTAINER_SKIP_LEAK_CHECK"):
        return
    if "libcontainer.spawner" in sys.modules:
        # The spawner helper lives as long as the process; stop it so it is not counted.
        sys.modules["libcontainer.spawner"].close_default_spawner()
    problems: list[str] = []
    mounts = _our_mounts()
    if mounts:
        problems.append(f"mounts left behind: {mounts}")
    before_cg = _BEFORE.get("cgroups", set())
    assert isinstance(before_cg, set)
    new_cgroups = sorted(_cgroup_dirs() - before_cg)
    if new_cgroups:
        named = [f"{c} (after {_FIRST_SEEN.get(c, '?')})" for c in new_cgroups[:10]]
        problems.append(f"cgroups left behind: {named}")
    before_ns = _BEFORE.get("netns", set())
    assert isinstance(before_ns, set)
    new_ns = sorted(_netns() - before_ns)
    if new_ns:
        problems.append(f"network namespaces left behind: {new_ns}")
    users = _users()
    if users:
        problems.append(f"users left behind: {users}")
    children = [c for c in _children() if " Z " not in c]
    if children:
        problems.append(f"processes left behind (children of the test runner): {children}")
    before_tmp = _BEFORE.get("tmp", set())
    assert isinstance(before_tmp, set)
    new_tmp = sorted(
        p
        for p in os.listdir(tempfile.gettempdir())
        if p.startswith(TMP_PREFIX) and p not in before_tmp
    )
    if new_tmp:
        problems.append(f"temporary dirs left behind: {new_tmp}")
    if problems:
        sys.stderr.write("\nLEAK CHECK FAILED:\n  " + "\n  ".join(problems) + "\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        sys.stderr.write("\nleak check: nothing left behind\n")
