"""The pytest plugin (``sandbox`` fixture), run in inner pytest sessions with ``pytester``."""

from __future__ import annotations

import os
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sbutil import cgroup_dirs
from testrun import RUN_TOKEN

from libcontainer.sandbox.pytest_plugin import parse_size

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "libcontainer.sandbox.pytest_plugin"


@pytest.fixture
def parent(pytester: pytest.Pytester) -> Iterator[str]:
    """The inner session's cgroup parent (named with this run's token); must end empty."""
    name = f"/pytest-{RUN_TOKEN}-plugin-{pytester.path.name[-12:]}"
    yield name
    left = cgroup_dirs(name)
    for d in sorted(left, key=len, reverse=True):
        Path(d).rmdir()
    # Only the (empty) parents themselves may remain: never a sandbox's cgroup.
    assert all(d.rstrip("/").endswith(name.lstrip("/")) for d in left), left


def ini(pytester: pytest.Pytester, parent: str, **options: str) -> None:
    lines = [f"sandbox_cgroup_parent = {parent}"]
    lines += [f"sandbox_{k} = {v}" for k, v in options.items()]
    pytester.makeini("[pytest]\n" + "\n".join(lines) + "\n")


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", *args)


pytestmark = pytest.mark.root


def test_fixture_runs_with_ini_and_marker_defaults(pytester: pytest.Pytester, parent: str) -> None:
    ini(pytester, parent, timeout="30", memory="64M", pids="16")
    pytester.makepyfile(
        textwrap.dedent(
            """
            import asyncio
            import pytest

            def test_ini_defaults(sandbox):
                assert sandbox.defaults == {"timeout": 30.0, "memory": 64 << 20, "pids": 16}
                r = sandbox.run(["sh", "-c", "echo hi"])
                assert (r.stdout, r.reason) == (b"hi\\n", "exited")
                assert sandbox.results == [r]

            @pytest.mark.sandbox(timeout=1)
            def test_marker_overrides(sandbox):
                r = sandbox.run(["sleep", "60"])
                assert r.reason == "timeout"
                assert sandbox.run(["true"], timeout=None).reason == "exited"

            @pytest.mark.sandbox(pids=3)
            def test_pids_from_marker(sandbox):
                r = sandbox.run(["sh", "-c", "for i in 1 2 3 4 5; do sleep 1 & done; wait"])
                assert b"fork" in r.stderr.lower()

            def test_run_async_and_pool(sandbox):
                async def main():
                    return await asyncio.gather(
                        *(sandbox.run_async(["echo", str(i)]) for i in range(3))
                    )
                assert [r.stdout for r in asyncio.run(main())] == [b"0\\n", b"1\\n", b"2\\n"]
                pool = sandbox.pool(2)
                assert pool.run(["echo", "warm"]).stdout == b"warm\\n"
            """
        )
    )
    result = run_inner(pytester, "-v")
    result.assert_outcomes(passed=4)


def test_leaked_sandbox_fails_the_test_and_is_removed(
    pytester: pytest.Pytester, parent: str
) -> None:
    ini(pytester, parent)
    pytester.makepyfile(
        textwrap.dedent(
            """
            from libcontainer.sandbox import box

            def test_leaks(monkeypatch, sandbox):  # patch undone after sandbox teardown
                # A broken harness: sandboxes are never destroyed.
                monkeypatch.setattr(box.Box, "destroy", lambda self: None)
                assert sandbox.run(["true"]).returncode == 0
                sandbox.pool(1)  # its waiting init stays alive: a process leaks too

            def test_clean(sandbox):
                assert sandbox.run(["true"]).returncode == 0
            """
        )
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the test's sandboxes left these behind (now removed):*",
            "*/state/pytest-*",
            "*process * in /sys/fs/cgroup/*",
        ]
    )


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester, parent: str) -> None:
    ini(pytester, parent, memory="lots")
    pytester.makepyfile("def test_x(sandbox):\n    pass\n")
    result = run_inner(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*sandbox_memory*'lots'*"])


def test_rootfs_ini_is_relative_to_the_ini_file(
    pytester: pytest.Pytester, parent: str, busybox_rootfs: Path
) -> None:
    (pytester.path / "image").symlink_to(busybox_rootfs)
    ini(pytester, parent, rootfs="image", user="0:0")
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_in_busybox(sandbox):
                r = sandbox.run(["ls", "/bin/busybox"])
                assert r.stdout == b"/bin/busybox\\n", r.stderr
            """
        )
    )
    run_inner(pytester).assert_outcomes(passed=1)


def test_entry_point_loads_the_plugin(
    pytester: pytest.Pytester, parent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyproject's ``pytest11`` entry point, as an installed distribution declares it."""
    with open(REPO / "pyproject.toml", "rb") as f:
        points = tomllib.load(f)["project"]["entry-points"]["pytest11"]
    assert PLUGIN in points.values()
    # A distribution that declares the same entry points, found on sys.path.
    dist = pytester.mkdir("site") / "pylibcontainer_entrypoints-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pylibcontainer-entrypoints\n")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    ini(pytester, parent)
    pytester.makepyfile("def test_x(sandbox):\n    assert sandbox.run(['true']).returncode == 0\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(dist.parent), str(REPO)]))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    # Installed and named on the command line as well: still one plugin.
    run_inner(pytester).assert_outcomes(passed=1)


def test_parse_size() -> None:
    assert parse_size("268435456") == 256 << 20
    assert parse_size("256M") == parse_size("256MiB") == 256 << 20
    assert parse_size("1g") == 1 << 30
    with pytest.raises(ValueError):
        parse_size("1.5G")
    assert sys.version_info >= (3, 11)
