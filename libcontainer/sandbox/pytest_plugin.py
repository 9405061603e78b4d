"""pytest plugin: a ``sandbox`` fixture that runs programs in sandboxes and cleans up.

Installed with the package (entry point ``pytest11``), so a test only asks for it::

    def test_snippet(sandbox):
        result = sandbox.run(["python3", "-c", "print(1 + 1)"])
        assert result.stdout == b"2\\n"

``sandbox.run(args, **options)`` is :func:`libcontainer.sandbox.run` with this test's
defaults; ``sandbox.run_async`` and ``sandbox.pool(size, **options)`` likewise. Defaults
come from the ini file, then from ``@pytest.mark.sandbox(**options)`` markers (the
innermost wins), then from ``sandbox.defaults`` (a dict the test may change)::

    [pytest]
    sandbox_timeout = 10        # seconds
    sandbox_memory = 256M       # bytes, or with a K, M or G suffix
    sandbox_pids = 64
    sandbox_cpus = 1.5
    sandbox_rootfs = images/alpine     # relative to the ini file; default: host programs
    sandbox_network = none      # or host
    sandbox_user = 65534:65534
    sandbox_cgroup_parent = /pylibcontainer-pytest

Each test's sandboxes live under a placement of their own (a state directory under the
test's temporary directory, a cgroup parent under ``sandbox_cgroup_parent``); at teardown
the fixture closes the test's pools and fails the test if anything is left there
(a container, a cgroup, a process), after removing it.

Importing this module imports nothing of the library: pytest loads it in every session.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from libcontainer.sandbox import Placement, Pool, SandboxResult

_INI: dict[str, str] = {
    "sandbox_timeout": "default timeout of sandbox.run, in seconds (empty: none)",
    "sandbox_memory": "default memory limit: bytes, or with a K, M or G suffix",
    "sandbox_pids": "default limit on the number of tasks in a sandbox",
    "sandbox_cpus": "default CPU limit, in CPUs (0.5: half a CPU's time)",
    "sandbox_rootfs": "default root directory (relative to the ini file); empty: host programs",
    "sandbox_network": 'default network: "none" (loopback only) or "host"',
    "sandbox_user": 'default user of sandboxed programs ("uid[:gid]" or "name[:group]")',
    "sandbox_cgroup_parent": "cgroup under which each test's sandbox cgroups are made",
}
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)i?B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_DEFAULTS_KEY = pytest.StashKey[dict[str, Any]]()
_PARENT_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, help_text in _INI.items():
        parser.addini(name, help_text, default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(**options): defaults of the sandbox fixture's run() for this test"
    )
    config.stash[_DEFAULTS_KEY] = ini_defaults(config)
    config.stash[_PARENT_KEY] = str(config.getini("sandbox_cgroup_parent") or "").strip() or (
        "/pylibcontainer-pytest"
    )


def ini_defaults(config: pytest.Config) -> dict[str, Any]:
    """The ``sandbox_*`` ini options as keyword arguments of ``sandbox.run``."""
    raw = {name: str(config.getini(name) or "").strip() for name in _INI}
    out: dict[str, Any] = {}
    try:
        if raw["sandbox_timeout"]:
            out["timeout"] = float(raw["sandbox_timeout"])
        if raw["sandbox_memory"]:
            out["memory"] = parse_size(raw["sandbox_memory"])
        if raw["sandbox_pids"]:
            out["pids"] = int(raw["sandbox_pids"])
        if raw["sandbox_cpus"]:
            out["cpus"] = float(raw["sandbox_cpus"])
    except ValueError as e:
        raise pytest.UsageError(f"sandbox ini options: {e}") from None
    if raw["sandbox_rootfs"]:
        base = Path(config.inipath).parent if config.inipath else Path(config.rootpath)
        out["rootfs"] = str(base / raw["sandbox_rootfs"])
    if raw["sandbox_network"]:
        out["network"] = raw["sandbox_network"]
    if raw["sandbox_user"]:
        out["user"] = raw["sandbox_user"]
    return out


def parse_size(text: str) -> int:
    """``"256M"`` -> 268435456 (K, M, G are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"sandbox_memory: {text!r} is not a size such as 268435456 or 256M")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


class SandboxFixture:
    """What the ``sandbox`` fixture gives a test."""

    def __init__(self, defaults: dict[str, Any], placement: Placement) -> None:
        self.defaults = defaults
        """Keyword arguments every run of this test gets unless it passes its own."""
        self.placement = placement
        """Where this test's sandboxes live."""
        self.results: list[SandboxResult] = []
        """Every result of this test's runs, in order."""
        self._pools: list[Pool] = []

    def run(self, args: Sequence[str], **options: Any) -> SandboxResult:
        """:func:`libcontainer.sandbox.run` with this test's defaults."""
        from libcontainer import sandbox

        with self._placed():
            result = sandbox.run(args, **{**self.defaults, **options})
        self.results.append(result)
        return result

    async def run_async(self, args: Sequence[str], **options: Any) -> SandboxResult:
        """:func:`libcontainer.sandbox.run_async` with this test's defaults."""
        from libcontainer import sandbox

        with self._placed():  # in this task's context, across its awaits
            result = await sandbox.run_async(args, **{**self.defaults, **options})
        self.results.append(result)
        return result

    def pool(self, size: int = 1, **options: Any) -> Pool:
        """A :class:`libcontainer.sandbox.Pool` with this test's defaults, closed at teardown."""
        from libcontainer import sandbox

        with self._placed():
            pool = sandbox.Pool(size, **{**self.defaults, **options})
        self._pools.append(pool)
        return pool

    def _placed(self) -> Any:
        from libcontainer import sandbox

        p = self.placement
        return sandbox.placement(root=p.root, cgroup_parent=p.cgroup_parent, prefix=p.prefix)

    def _finish(self) -> list[str]:
        """Close the pools; return what was left behind (and remove it)."""
        for pool in self._pools:
            pool.close()
        left = self.placement.leftovers()
        self.placement.sweep()
        return left


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxFixture]:
    """Run programs in sandboxes with this test's defaults; fails the test on leftovers."""
    from libcontainer.sandbox import Placement

    defaults = request.config.stash[_DEFAULTS_KEY].copy()
    for marker in reversed(list(request.node.iter_markers("sandbox"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.sandbox takes keyword arguments only")
        defaults.update(marker.kwargs)
    unique = f"{os.getpid()}-{secrets.token_hex(4)}"
    placement = Placement(
        root=str(tmp_path_factory.mktemp("sandbox", numbered=True)),
        cgroup_parent=f"{request.config.stash[_PARENT_KEY].rstrip('/')}/{unique}",
        prefix="pytest",
    )
    fixture = SandboxFixture(defaults, placement)
    yield fixture
    left = fixture._finish()
    if left:
        pytest.fail(
            "the test's sandboxes left these behind (now removed):\n  " + "\n  ".join(left),
            pytrace=False,
        )
