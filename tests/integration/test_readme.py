"""The README's Python examples run as written (only where state and cgroups go is redirected)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import specconv

pytestmark = pytest.mark.root
README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_opens_with_a_sandbox_run_example() -> None:
    """The first example runs as written (its sandboxes placed under this run's names)."""
    from sbutil import leftovers, placed

    blocks = python_blocks()
    assert blocks and "sandbox.run(" in blocks[0], "the README must open with sandbox.run"
    with placed() as place:
        wrapped = (
            "from libcontainer import sandbox as _s\n"
            f"with _s.placement(root={place.root!r}, cgroup_parent={place.cgroup_parent!r},"
            f" prefix={place.prefix!r}):\n" + textwrap.indent(blocks[0], "    ")
        )
        out = subprocess.run(
            [sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        assert leftovers(place) == []
    first, second = out.stdout.splitlines()
    assert first == "0 b'42\\n' exited"
    assert second.endswith(" bytes") and "s cpu" in second


def test_readme_python_example(busybox_rootfs: Path, state_root: Path, tmp_path: Path) -> None:
    blocks = [b for b in python_blocks() if "Factory(" in b]
    assert blocks, "the README lost its Factory example"
    bundle = busybox_rootfs.parent
    (bundle / "config.json").write_text(specconv.dump_spec(specconv.example()))
    (tmp_path / "bundle").symlink_to(bundle)  # the example's relative "bundle/"
    source = blocks[0].replace('"/run/somewhere"', repr(str(state_root)))
    out = subprocess.run(
        [sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'hello\\nrunc\\n' 0"
