"""The shipped examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("run_busybox.py", "hello from runc, I am pid 1"),
        ("create_start.py", "status after start(): created"),
    ],
)
def test_example_runs(script: str, expected: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert expected in out.stdout
