"""User and group resolution from a container's /etc files (hostile input included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from libcontainer.errors import ConfigError
from libcontainer.user import lookup_user

PASSWD = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:A:/home/alice:/bin/sh\n"
GROUP = "root:x:0:\nusers:x:100:alice,bob\naudio:x:29:alice\nalice:x:1000:\n"


@pytest.fixture
def etc(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "passwd").write_text(PASSWD)
    (tmp_path / "group").write_text(GROUP)
    return str(tmp_path / "passwd"), str(tmp_path / "group")


def test_name_resolves_ids_home_and_groups(etc: tuple[str, str]) -> None:
    u = lookup_user("alice", passwd=etc[0], group=etc[1])
    assert (u.uid, u.gid, u.home) == (1000, 1000, "/home/alice")
    assert set(u.sgids) == {100, 29}


def test_numeric_ids_need_no_files(tmp_path: Path) -> None:
    u = lookup_user("1234:5678", passwd=str(tmp_path / "none"), group=str(tmp_path / "none"))
    assert (u.uid, u.gid, u.sgids, u.home) == (1234, 5678, (), "/")


def test_uid_with_group_name_and_additional_groups(etc: tuple[str, str]) -> None:
    u = lookup_user("1000:audio", ["users", "4242"], passwd=etc[0], group=etc[1])
    assert (u.uid, u.gid) == (1000, 29)
    assert u.sgids == (100, 4242)  # an explicit group: no login groups, only the extras


def test_unknown_user_and_group_are_config_errors(etc: tuple[str, str]) -> None:
    with pytest.raises(ConfigError, match="unable to find user"):
        lookup_user("mallory", passwd=etc[0], group=etc[1])
    with pytest.raises(ConfigError, match="unable to find group"):
        lookup_user("alice:nogroup", passwd=etc[0], group=etc[1])


def test_malformed_lines_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(
        "garbage\n::::\nalice:x:notanumber:1:::\n#comment\nalice:x:7:8:A:/h:/bin/sh\n"
    )
    (tmp_path / "group").write_text("bad\n")
    u = lookup_user("alice", passwd=str(tmp_path / "passwd"), group=str(tmp_path / "group"))
    assert (u.uid, u.gid, u.home) == (7, 8, "/h")


def test_huge_hostile_passwd_is_bounded(tmp_path: Path) -> None:
    """A 67 MiB file with one endless line and the user after the 16 MiB read limit."""
    p = tmp_path / "passwd"
    with p.open("wb") as f:
        f.write(b"x" * (48 * 1024 * 1024) + b"\n")
        f.write(b"a:x:1:1::/:/bin/sh\n" * (1024 * 1024))
        f.write(b"late:x:5:5::/:/bin/sh\n")
    with pytest.raises(ConfigError):
        lookup_user("late", passwd=str(p), group=str(tmp_path / "none"))
    assert lookup_user("5", passwd=str(p), group=str(tmp_path / "none")).uid == 5
