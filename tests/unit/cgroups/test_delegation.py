"""Which cgroups an unprivileged user can have: the check before create, on a real tree.

The tree is plain directories in a temp dir, owned as a delegation leaves them; the check
runs as a real unprivileged user (nobody), so the kernel answers "may it create this".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from asuser import NOBODY, as_nobody
from testrun import TMP_PREFIX

from libcontainer.cgroups.delegation import check_delegation, limited_controllers
from libcontainer.configs import Cgroup, FreezerState, Resources
from libcontainer.errors import RootlessError

pytestmark = pytest.mark.root


def test_limited_controllers_names_the_fields_that_need_each() -> None:
    r = Resources(memory=1 << 20, pids_limit=5, cpu_shares=2, memory_swappiness=0)
    assert limited_controllers(r) == {
        "memory": ["memory", "memory_swappiness"],
        "cpu": ["cpu_shares"],
        "pids": ["pids_limit"],
    }
    assert limited_controllers(Resources(memory_swappiness=-1)) == {}
    assert limited_controllers(Resources(freezer=FreezerState.THAWED)) == {}
    assert limited_controllers(Resources(freezer=FreezerState.FROZEN)) == {"freezer": ["freezer"]}


@pytest.fixture
def tree() -> Iterator[Path]:
    """hierarchy/ (root's, 0755) holding delegated/ (nobody's) and others/ (root's)."""
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "deleg-"))
    os.chmod(base, 0o755)
    try:
        for name in ("memory", "pids"):
            (base / name / "delegated").mkdir(parents=True)
            os.chown(base / name / "delegated", NOBODY, NOBODY)
            (base / name / "others").mkdir()
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _check(cgroup: Cgroup, paths: dict[str, str]) -> str:
    def attempt() -> str:
        try:
            check_delegation(cgroup, paths)
        except RootlessError as e:
            return f"{e.field}: {e.message}"
        return "ok"

    result: str = as_nobody(attempt)
    return result


def test_limits_below_a_delegated_cgroup_are_fine(tree: Path) -> None:
    paths = {"memory": f"{tree}/memory/delegated/c", "pids": f"{tree}/pids/delegated/c"}
    limits = Cgroup(name="c", resources=Resources(memory=1 << 20, pids_limit=5))
    assert _check(limits, paths) == "ok"


def test_limits_outside_the_delegation_name_each_limit_and_place(tree: Path) -> None:
    paths = {"memory": f"{tree}/memory/c", "pids": f"{tree}/pids/others"}
    limits = Cgroup(name="c", resources=Resources(memory=1 << 20, pids_limit=5))
    got = _check(limits, paths)
    assert got.startswith("cgroups.resources: these limits need cgroups delegated")
    assert f"memory (memory): {tree}/memory/c: uid {NOBODY} cannot create it" in got
    assert f"pids (pids_limit): {tree}/pids/others: it exists and belongs to uid 0" in got


def test_without_limits_nothing_is_needed(tree: Path) -> None:
    paths = {"memory": f"{tree}/memory/c", "pids": f"{tree}/pids/c"}
    assert _check(Cgroup(name="c"), paths) == "ok"


def test_an_explicit_path_needs_every_cgroup(tree: Path) -> None:
    paths = {"memory": f"{tree}/memory/delegated/c", "pids": f"{tree}/pids/c"}
    got = _check(Cgroup(path="/c"), paths)
    assert got.startswith("cgroups.path: the pids cgroup") and "cannot create it" in got


def test_cgroup_v2_needs_its_one_cgroup_for_any_limit(tree: Path) -> None:
    paths = {"": f"{tree}/memory/c"}
    got = _check(Cgroup(name="c", resources=Resources(unified={"memory.high": "1M"})), paths)
    assert "cgroup v2 (unified['memory.high'])" in got
    got = _check(Cgroup(name="c", resources=Resources(pids_limit=3)), paths)
    assert "cgroup v2 (pids_limit)" in got
    assert (
        _check(
            Cgroup(name="c", resources=Resources(pids_limit=3)), {"": f"{tree}/pids/delegated/x"}
        )
        == "ok"
    )


def test_joining_existing_cgroups_needs_their_cgroup_procs(tree: Path) -> None:
    (tree / "pids" / "others" / "cgroup.procs").write_text("")
    (tree / "pids" / "delegated" / "cgroup.procs").write_text("")
    os.chown(tree / "pids" / "delegated" / "cgroup.procs", NOBODY, NOBODY)
    ok = Cgroup(paths={"pids": f"{tree}/pids/delegated"})
    assert _check(ok, {}) == "ok"
    refused = Cgroup(paths={"pids": f"{tree}/pids/others"})
    assert _check(refused, {}).startswith("cgroups.paths['pids']: cannot join")


def test_a_systemd_cgroup_is_left_to_the_users_systemd(tree: Path) -> None:
    systemd = Cgroup(systemd=True, name="c", resources=Resources(memory=1 << 20))
    assert _check(systemd, {"memory": f"{tree}/memory/c"}) == "ok"
