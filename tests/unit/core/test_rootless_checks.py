"""Running without root: the default state root, the checks before create, id mappings,
stdio pipes, and the init proof that works on a process we may not ptrace."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from asuser import NOBODY, as_nobody
from testrun import TMP_PREFIX

from libcontainer import idmap, procinfo, rootless
from libcontainer.configs import Config, IDMap, Namespace, NamespaceType, Rlimit
from libcontainer.errors import RootlessError, StateFileError
from libcontainer.lifecycle import launch

USERNS = (Namespace(type=NamespaceType.NEWUSER), Namespace(type=NamespaceType.NEWNS))


def _euid(monkeypatch: pytest.MonkeyPatch, uid: int) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: uid)


# -- the default state root (runc's shouldHonorXDGRuntimeDir) ----------------------------------


@pytest.mark.parametrize(
    ("euid", "userns", "user", "xdg", "expected"),
    [
        (1000, False, "alice", "/run/user/1000", "/run/user/1000/pyrunc"),
        (1000, False, "alice", "", "/run/pyrunc"),
        (0, False, "root", "/run/user/0", "/run/pyrunc"),  # real root keeps /run
        (0, True, "root", "/run/user/0", "/run/pyrunc"),  # root in a userns, USER=root
        (0, True, "alice", "/run/user/1000", "/run/user/1000/pyrunc"),
    ],
)
def test_default_root_as_runc_chooses_it(
    monkeypatch: pytest.MonkeyPatch, euid: int, userns: bool, user: str, xdg: str, expected: str
) -> None:
    _euid(monkeypatch, euid)
    monkeypatch.setattr(rootless, "running_in_userns", lambda: userns)
    monkeypatch.setenv("USER", user)
    if xdg:
        monkeypatch.setenv("XDG_RUNTIME_DIR", xdg)
    else:
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert rootless.default_root() == expected


def test_running_in_userns_reads_the_real_map() -> None:
    assert rootless.running_in_userns() is False or os.geteuid() != 0
    if os.geteuid() != 0 or not os.path.exists("/usr/bin/unshare"):
        return
    code = "from libcontainer.rootless import running_in_userns as r; print(r())"
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert done.stdout.strip() == "True"


def test_prepare_root_makes_the_xdg_root_sticky(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _euid(monkeypatch, 1000)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    root = rootless.default_root()
    rootless.prepare_root(root)
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o1700
    rootless.prepare_root(root)  # again: fine


@pytest.mark.root
def test_check_root_says_what_to_do_when_run_is_not_ours(open_tmp: Path) -> None:
    def attempt() -> str:
        os.environ.pop("XDG_RUNTIME_DIR", None)
        rootless.prepare_root(str(open_tmp / "pyrunc"))  # not under XDG: left alone
        try:
            rootless.check_root(str(open_tmp / "pyrunc"))
        except StateFileError as e:
            return str(e)
        return "no error"

    message = as_nobody(attempt)
    assert "XDG_RUNTIME_DIR" in message and f"uid {NOBODY} may not write" in message


# -- stdio pipes for a container root that is not us ------------------------------------------


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temp dir another user can reach (pytest's own are under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "asuser-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.root
def test_share_stdio_pipes_opens_anonymous_pipes_only(open_tmp: Path) -> None:
    fifo = open_tmp / "named"
    os.mkfifo(fifo, 0o600)
    os.chown(fifo, NOBODY, NOBODY)

    def attempt() -> dict[str, object]:
        r, w = os.pipe()
        named = os.open(fifo, os.O_RDWR)
        changed = rootless.share_stdio_pipes((r, w, named), container_root_uid=1_000_000)
        same = rootless.share_stdio_pipes((r,), container_root_uid=NOBODY)
        return {
            "changed": [fd in changed for fd in (r, w, named)],
            "pipe": stat.S_IMODE(os.fstat(w).st_mode),
            "named": stat.S_IMODE(os.fstat(named).st_mode),
            "same": same,
        }

    got = as_nobody(attempt)
    # One pipe inode for both ends: changed once, seen from both.
    assert got["changed"] == [True, False, False]
    assert got["pipe"] == 0o666 and got["named"] == 0o600 and got["same"] == []


def test_share_stdio_pipes_leaves_root_alone() -> None:
    r, w = os.pipe()
    try:
        if os.geteuid() == 0:
            assert rootless.share_stdio_pipes((r, w), container_root_uid=100000) == []
            assert stat.S_IMODE(os.fstat(r).st_mode) == 0o600
    finally:
        os.close(r)
        os.close(w)


# -- check_config ---------------------------------------------------------------------------------


def test_check_config_passes_root_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    _euid(monkeypatch, 0)
    rootless.check_config(Config(), None, newuidmap=None, newgidmap=None)


def test_check_config_wants_a_rootless_config(monkeypatch: pytest.MonkeyPatch) -> None:
    _euid(monkeypatch, 1000)
    with pytest.raises(RootlessError, match="not root: the container must be a rootless one"):
        rootless.check_config(Config(), None, newuidmap=None, newgidmap=None)


def test_check_config_refuses_rlimits_above_our_own(monkeypatch: pytest.MonkeyPatch) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    _euid(monkeypatch, 1000)
    monkeypatch.setattr(os, "getegid", lambda: 1000)
    config = attrs.evolve(
        _mapped([(0, 1000, 1)], [(0, 1000, 1)]),
        rlimits=(Rlimit(type=resource.RLIMIT_NOFILE, soft=1, hard=hard),),
    )
    rootless.check_config(config, None, newuidmap=None, newgidmap=None)  # at the limit: fine
    above = attrs.evolve(
        config, rlimits=(Rlimit(type=resource.RLIMIT_NOFILE, soft=1, hard=hard + 1),)
    )
    with pytest.raises(RootlessError, match="only root may raise") as e:
        rootless.check_config(above, None, newuidmap=None, newgidmap=None)
    assert e.value.field == "rlimits[0].hard"


# -- id mappings ----------------------------------------------------------------------------------


def test_read_subids_matches_name_or_uid(tmp_path: Path) -> None:
    f = tmp_path / "subuid"
    f.write_text("alice:100000:65536\n4000:200000:10\nbob:300000:5\nbroken\nalice:x:1\n")
    assert idmap.read_subids(str(f), "alice", 4000) == [
        idmap.SubIdRange(100000, 65536),
        idmap.SubIdRange(200000, 10),
    ]
    assert idmap.read_subids(str(tmp_path / "missing"), "alice", 1) == []


def test_direct_write_allowed_is_the_kernels_rule() -> None:
    own = IDMap(container_id=0, host_id=1000, size=1)
    assert idmap.direct_write_allowed((own,), 1000)
    assert idmap.direct_write_allowed((attrs.evolve(own, container_id=5),), 1000)
    assert not idmap.direct_write_allowed((attrs.evolve(own, size=2),), 1000)
    assert not idmap.direct_write_allowed((own, attrs.evolve(own, container_id=1)), 1000)
    assert not idmap.direct_write_allowed((own,), 1001)


@pytest.fixture
def subids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A user with no passwd entry (uid 4000000), its subordinate files and a helper."""
    uid = 4_000_000
    for fn in ("geteuid", "getuid", "getegid", "getgid"):
        monkeypatch.setattr(os, fn, lambda: uid)
    (tmp_path / "subuid").write_text(f"{uid}:100000:65536\n")
    (tmp_path / "subgid").write_text(f"{uid}:200000:65536\n")
    tool = tmp_path / "newidmap"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    return {
        "subuid_file": str(tmp_path / "subuid"),
        "subgid_file": str(tmp_path / "subgid"),
        "tool": str(tool),
    }


def _mapped(uids: list[tuple[int, int, int]], gids: list[tuple[int, int, int]]) -> Config:
    return Config(
        namespaces=USERNS,
        uid_mappings=tuple(IDMap(container_id=c, host_id=h, size=s) for c, h, s in uids),
        gid_mappings=tuple(IDMap(container_id=c, host_id=h, size=s) for c, h, s in gids),
        rootless_euid=True,
    )


def _check(config: Config, s: dict[str, str], tool: str | None = "default") -> None:
    t = s["tool"] if tool == "default" else tool
    idmap.check_mappings(
        config,
        newuidmap=t,
        newgidmap=t,
        subuid_file=s["subuid_file"],
        subgid_file=s["subgid_file"],
    )


def test_mappings_the_user_may_have(subids: dict[str, str]) -> None:
    me = 4_000_000
    _check(_mapped([(0, me, 1)], [(0, me, 1)]), subids, tool=None)  # the kernel's own rule
    _check(_mapped([(0, me, 1), (1, 100000, 65536)], [(0, me, 1), (1, 200000, 65536)]), subids)
    _check(_mapped([(0, 100000, 10)], [(0, 200010, 5)]), subids)
    joined = attrs.evolve(
        _mapped([(0, 1, 1)], [(0, 1, 1)]),
        namespaces=(Namespace(type=NamespaceType.NEWUSER, path="/proc/1/ns/user"),),
    )
    _check(joined, subids, tool=None)  # a joined namespace has its maps already


def test_mappings_the_user_may_not_have(subids: dict[str, str]) -> None:
    me = 4_000_000
    with pytest.raises(RootlessError, match="needs newuidmap") as e:
        _check(_mapped([(0, me, 1), (1, 100000, 5)], [(0, me, 1)]), subids, tool=None)
    assert e.value.field == "uid_mappings"
    with pytest.raises(RootlessError, match="needs newgidmap"):
        _check(_mapped([(0, me, 1)], [(0, 200000, 5)]), subids, tool="/nonexistent")
    with pytest.raises(RootlessError, match=r"cannot map host uids 165530-165539.*100000-165535"):
        _check(_mapped([(0, 165530, 10)], [(0, me, 1)]), subids)
    with pytest.raises(RootlessError, match="cannot map host gids 0-0"):
        _check(_mapped([(0, me, 1)], [(0, 0, 1)]), subids)


def test_setgroups_is_denied_only_where_the_kernel_requires_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "getegid", lambda: 1000)
    own = _mapped([(0, 1000, 1)], [(0, 1000, 1)])
    assert launch._setgroups_denied(own)
    assert not launch._setgroups_denied(_mapped([(0, 1000, 1)], [(0, 1000, 1), (1, 5, 5)]))
    assert not launch._setgroups_denied(attrs.evolve(own, rootless_euid=False))


def test_specconv_defaults_follow_the_effective_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    import specconv

    spec = specconv.example()
    _euid(monkeypatch, 1000)
    config = specconv.create_config(spec, bundle="/tmp")
    assert config.rootless_euid and config.cgroups is not None and config.cgroups.rootless
    _euid(monkeypatch, 0)
    config = specconv.create_config(spec, bundle="/tmp")
    assert not config.rootless_euid and config.cgroups is not None
    assert not config.cgroups.rootless
    forced = specconv.create_config(spec, bundle="/tmp", rootless_euid=True)
    assert forced.rootless_euid


# -- the init proof from mountinfo ----------------------------------------------------------------

HOST = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 8:1 /data /srv rw,relatime shared:2 - ext4 /dev/vdb rw
31 30 8:1 /other /srv/b rw,relatime shared:3 - ext4 /dev/vdb rw
32 22 254:0 /tmp/with\\040space /mnt/x rw - ext4 /dev/vda rw
"""


def test_fs_path_is_the_path_inside_the_filesystem() -> None:
    assert procinfo._fs_path(HOST, "/tmp/b/rootfs", "254:0") == ("254:0", "/tmp/b/rootfs")
    assert procinfo._fs_path(HOST, "/srv/a/rootfs", "8:1") == ("8:1", "/data/a/rootfs")
    # The deepest mount holding it wins.
    assert procinfo._fs_path(HOST, "/srv/b/rootfs", "8:1") == ("8:1", "/other/rootfs")
    assert procinfo._fs_path(HOST, "/mnt/x/r", "254:0") == ("254:0", "/tmp/with\\040space/r")
    assert procinfo._fs_path(HOST, "/srv/a", "9:9") is None  # no mount of that device


def test_root_mounts_are_the_mounts_at_slash() -> None:
    container = (
        "44 43 254:0 /tmp/b/rootfs / rw - ext4 /dev/vda rw\n45 44 0:5 / /proc rw - proc p rw\n"
    )
    assert procinfo._root_mounts(container) == {("254:0", "/tmp/b/rootfs")}
    assert procinfo._root_mounts(HOST) == {("254:0", "/")}


def test_root_is_falls_back_to_mountinfo_for_a_process_we_cannot_ptrace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    dev = os.stat(rootfs).st_dev
    mm = f"{os.major(dev)}:{os.minor(dev)}"
    ours = Path("/proc/self/mountinfo").read_text()
    wanted = procinfo._fs_path(ours, str(rootfs), mm)
    assert wanted is not None
    theirs = f"44 43 {mm} {wanted[1]} / rw - ext4 /dev/x rw\n"
    real_open = open

    def fake_open(path: object, *args: object, **kwargs: object) -> object:
        if path == "/proc/4242/mountinfo":
            import io

            return io.StringIO(theirs)
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    def fake_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if path == "/proc/4242/root":
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    real_stat = os.stat
    monkeypatch.setattr("builtins.open", fake_open)
    monkeypatch.setattr(os, "stat", fake_stat)
    assert procinfo.root_is(4242, str(rootfs))
    assert not procinfo.root_is(4242, str(tmp_path))
    theirs = "44 43 254:0 / / rw - ext4 /dev/x rw\n"  # a host process: the host's root
    assert not procinfo.root_is(4242, str(rootfs))
