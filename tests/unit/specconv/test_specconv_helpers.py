"""Small helpers: Go path cleaning and the cgroup v2 host check."""

from __future__ import annotations

from pathlib import Path

import pytest

from specconv._host import is_cgroup2_unified_mode
from specconv._paths import clean, clean_path, join


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", "."), ("//a//b/", "/a/b"), ("a/./b/..", "a"), ("/../x", "/x"), ("///", "/")],
)
def test_clean_like_go(path: str, expected: str) -> None:
    assert clean(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        ("/a/../b//c/", "/b/c"),
        ("../../x", "x"),
        ("a/b/../c", "a/c"),
        ("..", "."),
        ("//x", "/x"),
    ],
)
def test_clean_path_like_libcontainer(path: str, expected: str) -> None:
    assert clean_path(path) == expected


def test_join_skips_empty_parts() -> None:
    assert join("/b", "", "r/../s") == "/b/s"
    assert join("", "") == ""


MOUNTINFO_V1 = """\
24 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
"""
MOUNTINFO_V2 = """\
24 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate
"""
MOUNTINFO_OVER = MOUNTINFO_V2 + "40 31 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(MOUNTINFO_V1, False), (MOUNTINFO_V2, True), (MOUNTINFO_OVER, False), ("", False)],
)
def test_cgroup2_detection(tmp_path: Path, text: str, expected: bool) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(text)
    assert is_cgroup2_unified_mode(str(mountinfo)) is expected


def test_cgroup2_detection_without_mountinfo(tmp_path: Path) -> None:
    assert is_cgroup2_unified_mode(str(tmp_path / "missing")) is False
