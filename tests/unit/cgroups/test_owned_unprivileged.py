"""The owner proof of a cgroup for an unprivileged caller (libcontainer.cgroups.owned).

As a real unprivileged user (nobody): a cgroup it made carries a ``user.*`` mark where the
filesystem keeps one (cgroupfs does, v2 and, on recent kernels, v1 too: the integration
tests see both); where none sticks, owning the directory stands in, as the kernel's own
permission checks then bound what the user can touch. The directories are plain ones in a
temp dir; "no xattr sticks" is a fake (ENOTSUP), everything else is the kernel's answer.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from asuser import NOBODY, as_nobody
from testrun import TMP_PREFIX

from libcontainer.cgroups import owned

pytestmark = pytest.mark.root


@pytest.fixture
def dirs() -> Iterator[Path]:
    """mine/ and also_mine/ (nobody's), theirs/ (root's), in a directory nobody can reach."""
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "owned-"))
    os.chmod(base, 0o755)
    try:
        for name, uid in (("mine", NOBODY), ("also_mine", NOBODY), ("theirs", 0)):
            (base / name).mkdir()
            os.chown(base / name, uid, uid)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_where_marks_stick_the_mark_decides(dirs: Path) -> None:
    def attempt() -> dict[str, object]:
        claimed = owned.claim(str(dirs / "mine"), "/state/c1")
        return {
            "claimed": claimed,
            "name": os.listxattr(dirs / "mine"),
            "mine": owned.is_owned(str(dirs / "mine"), "/state/c1"),
            "other_container": owned.is_owned(str(dirs / "mine"), "/state/c2"),
            # Ours by uid, but unmarked where a mark would have stuck: not the container's.
            "unmarked": owned.is_owned(str(dirs / "also_mine"), "/state/c1"),
            "theirs": owned.is_owned(str(dirs / "theirs"), "/state/c1"),
        }

    got = as_nobody(attempt)
    assert got == {
        "claimed": True,
        "name": ["user.pylibcontainer.owner"],
        "mine": True,
        "other_container": False,
        "unmarked": False,
        "theirs": False,
    }
    # Root reads the user's mark as well (what a root caller of a user's state would see).
    assert owned.owner_of(str(dirs / "mine")) == "/state/c1"


def test_where_no_mark_sticks_ownership_stands_in(dirs: Path) -> None:
    def no_xattrs(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP))

    def attempt() -> dict[str, object]:
        os.setxattr = no_xattrs  # type: ignore[assignment]  (only in this forked child)
        os.getxattr = no_xattrs  # type: ignore[assignment]
        return {
            "claimed": owned.claim(str(dirs / "mine"), "/state/c1"),
            "mine": owned.is_owned(str(dirs / "mine"), "/state/c1"),
            "theirs": owned.is_owned(str(dirs / "theirs"), "/state/c1"),
            "gone": owned.is_owned(str(dirs / "missing"), "/state/c1"),
        }

    assert as_nobody(attempt) == {"claimed": False, "mine": True, "theirs": False, "gone": False}


def test_root_needs_the_mark(dirs: Path) -> None:
    assert not owned.is_owned(str(dirs / "theirs"), "/state/c1")
    assert owned.claim(str(dirs / "theirs"), "/state/c1")
    assert os.listxattr(dirs / "theirs") == ["trusted.pylibcontainer.owner"]
    assert owned.is_owned(str(dirs / "theirs"), "/state/c1")
