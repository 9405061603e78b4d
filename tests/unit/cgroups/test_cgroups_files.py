"""Control file access, errors that name file and value, and the shared helpers."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from libcontainer.cgroups import fscommon, utils
from libcontainer.cgroups.fscommon import MAX_UINT64, CgroupFileError
from libcontainer.errors import CgroupError


def test_write_replaces_content(tmp_path: Path) -> None:
    (tmp_path / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    fscommon.write_file(str(tmp_path), "memory.limit_in_bytes", "1048576")
    assert (tmp_path / "memory.limit_in_bytes").read_text() == "1048576"


def test_write_never_creates_a_file(tmp_path: Path) -> None:
    with pytest.raises(CgroupFileError) as info:
        fscommon.write_file(str(tmp_path), "pids.max", "10")
    err = info.value
    assert isinstance(err, CgroupError)
    assert err.errno == errno.ENOENT
    assert err.path == f"{tmp_path}/pids.max"
    assert err.value == "10"
    assert str(err) == f"failed to write '10' to {tmp_path}/pids.max: No such file or directory"
    assert not (tmp_path / "pids.max").exists()


def test_write_error_from_the_write_itself(tmp_path: Path) -> None:
    # Writing to a directory fails at open (EISDIR); the message still names file and value.
    (tmp_path / "cpu.shares").mkdir()
    with pytest.raises(CgroupFileError, match=r"failed to write '512' to .*/cpu\.shares"):
        fscommon.write_file(str(tmp_path), "cpu.shares", "512")


def test_empty_directory_means_not_joined() -> None:
    with pytest.raises(CgroupFileError, match=r"cannot access pids\.max: no cgroup directory"):
        fscommon.write_file("", "pids.max", "1")
    with pytest.raises(CgroupFileError, match="no cgroup directory"):
        fscommon.read_file("", "pids.max")


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CgroupFileError, match=r"failed to read .*/nope: No such file") as info:
        fscommon.read_file(str(tmp_path), "nope")
    assert info.value.errno == errno.ENOENT
    assert fscommon.if_exists(fscommon.read_file, str(tmp_path), "nope") is None


@pytest.mark.parametrize(
    ("content", "value"),
    [("42\n", 42), ("max\n", MAX_UINT64), ("-1\n", 0), ("18446744073709551615", MAX_UINT64)],
)
def test_read_uint(tmp_path: Path, content: str, value: int) -> None:
    (tmp_path / "f").write_text(content)
    assert fscommon.read_uint(str(tmp_path), "f") == value


@pytest.mark.parametrize("content", ["abc", "1.5", "18446744073709551616", ""])
def test_read_uint_rejects(tmp_path: Path, content: str) -> None:
    (tmp_path / "f").write_text(content)
    with pytest.raises(CgroupFileError, match=f"{tmp_path}/f"):
        fscommon.read_uint(str(tmp_path), "f")


def test_read_int(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("-1\n")
    assert fscommon.read_int(str(tmp_path), "f") == -1
    (tmp_path / "f").write_text("max\n")
    assert fscommon.read_int(str(tmp_path), "f") == 2**63 - 1
    (tmp_path / "f").write_text("x\n")
    with pytest.raises(CgroupFileError, match="as an integer"):
        fscommon.read_int(str(tmp_path), "f")


def test_key_value_helpers(tmp_path: Path) -> None:
    assert fscommon.parse_key_value("cache 4096") == ("cache", 4096)
    with pytest.raises(CgroupFileError, match="not in 'key value' format"):
        fscommon.parse_key_value("cache 1 2", path="memory.stat")
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert fscommon.get_value_by_key(str(tmp_path), "memory.oom_control", "oom_kill") == 3
    assert fscommon.get_value_by_key(str(tmp_path), "memory.oom_control", "absent") == 0


def test_mkdir_reports_creation(tmp_path: Path) -> None:
    assert fscommon.mkdir(str(tmp_path / "a")) is True
    assert fscommon.mkdir(str(tmp_path / "a")) is False
    with pytest.raises(CgroupFileError, match="failed to create cgroup"):
        fscommon.mkdir(str(tmp_path / "x" / "y"))


def test_make_dirs_returns_what_it_created(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert utils.make_dirs(str(tmp_path / "a" / "b" / "c")) == [
        f"{tmp_path}/a/b",
        f"{tmp_path}/a/b/c",
    ]
    assert utils.make_dirs(str(tmp_path / "a" / "b" / "c")) == []


def test_write_cgroup_proc_retries_einval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def flaky(directory: str, name: str, data: str) -> None:
        calls.append(data)
        if len(calls) < 3:
            raise CgroupFileError("EINVAL", path=name, value=data, errno=errno.EINVAL)

    monkeypatch.setattr(fscommon, "write_file", flaky)
    monkeypatch.setattr("libcontainer.cgroups.utils.time.sleep", lambda _s: None)
    utils.write_cgroup_proc("/cg", 42)
    assert calls == ["42", "42", "42"]


def test_write_cgroup_proc_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def failing(directory: str, name: str, data: str) -> None:
        calls.append(data)
        raise CgroupFileError("boom", path=name, value=data, errno=errno.EINVAL)

    monkeypatch.setattr(fscommon, "write_file", failing)
    monkeypatch.setattr("libcontainer.cgroups.utils.time.sleep", lambda _s: None)
    with pytest.raises(CgroupFileError, match="boom"):
        utils.write_cgroup_proc("/cg", 42)
    assert len(calls) == 5


def test_write_cgroup_proc_special_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CgroupError, match="no cgroup directory"):
        utils.write_cgroup_proc("", 1)
    monkeypatch.setattr(fscommon, "write_file", pytest.fail)
    utils.write_cgroup_proc("/cg", -1)  # -1: nothing to move


def test_pids(tmp_path: Path) -> None:
    (tmp_path / "cgroup.procs").write_text("1\n2\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cgroup.procs").write_text("3\n")
    assert utils.get_pids(str(tmp_path)) == [1, 2]
    assert sorted(utils.get_all_pids(str(tmp_path))) == [1, 2, 3]
    (tmp_path / "cgroup.procs").write_text("x\n")
    with pytest.raises(CgroupError, match="unexpected content"):
        utils.get_pids(str(tmp_path))


def test_get_all_pids_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match="cannot walk cgroup"):
        utils.get_all_pids(str(tmp_path / "gone"))


def test_remove_path_removes_sub_cgroups_first(tmp_path: Path) -> None:
    (tmp_path / "c" / "sub" / "subsub").mkdir(parents=True)
    utils.remove_path(str(tmp_path / "c"))
    assert not (tmp_path / "c").exists()
    utils.remove_path(str(tmp_path / "c"))  # already gone: fine


def test_remove_paths_retries_then_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "a-file").write_text("")  # rmdir fails with ENOTEMPTY, like a busy cgroup
    sleeps: list[float] = []
    monkeypatch.setattr("libcontainer.cgroups.utils.time.sleep", sleeps.append)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CgroupError, match=f"failed to remove cgroups {busy}"):
        utils.remove_paths({"memory": str(busy)})
    assert sleeps == [0.01, 0.02, 0.04, 0.08]
    assert "will retry" in caplog.text


def test_remove_paths_succeeds_after_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "a-file").write_text("")

    def sleep(_s: float) -> None:
        os.unlink(busy / "a-file")  # the last process left

    monkeypatch.setattr("libcontainer.cgroups.utils.time.sleep", sleep)
    utils.remove_paths({"memory": str(busy), "cpu": ""})
    assert not busy.exists()


def test_hugepage_sizes(tmp_path: Path) -> None:
    for name in (
        "hugepages-1048576kB",
        "hugepages-2048kB",
        "hugepages-64kB",
        "other",
        "hugepages-xkB",
    ):
        (tmp_path / name).mkdir()
    assert utils.hugepage_sizes(str(tmp_path)) == ("64KB", "2MB", "1GB")
    assert utils.hugepage_sizes(str(tmp_path / "none")) == ()


def test_running_in_userns(tmp_path: Path) -> None:
    uid_map = tmp_path / "uid_map"
    uid_map.write_text("         0          0 4294967295\n")
    assert utils.running_in_userns(str(uid_map)) is False
    uid_map.write_text("         0       1000          1\n")
    assert utils.running_in_userns(str(uid_map)) is True
    assert utils.running_in_userns(str(tmp_path / "absent")) is False
