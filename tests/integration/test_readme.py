"""The README's first Python example runs as written (only the state root is redirected)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import specconv

pytestmark = pytest.mark.root
README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example(busybox_rootfs: Path, state_root: Path, tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None, "the README lost its Python example"
    bundle = busybox_rootfs.parent
    (bundle / "config.json").write_text(specconv.dump_spec(specconv.example()))
    (tmp_path / "bundle").symlink_to(bundle)  # the example's relative "bundle/"
    source = code.group(1).replace('"/run/somewhere"', repr(str(state_root)))
    out = subprocess.run(
        [sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'hello\\nrunc\\n' 0"
