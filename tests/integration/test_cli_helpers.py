"""Shared helpers (no tests) of the CLI integration tests: the installed binary, bundles, a runner.

A container's init inherits the stdio of ``create``/``run --detach``, so those are run with
stdio on files, never on pipes (reading a pipe would wait for the container to exit).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

import pytest
from testrun import TMP_PREFIX


def pyrunc_binary() -> str:
    """The installed console script (not the slow pyenv shim); skip when not installed."""
    path = Path(sysconfig.get_path("scripts")) / "pyrunc"
    if path.exists():
        return str(path)
    found = shutil.which("pyrunc")
    if not found:
        pytest.skip("the pyrunc console script is not installed (pip install -e .)")
    return found


def make_bundle(bundle: Path, args: list[str], edit: Any = None) -> Path:
    """Write config.json with ``pyrunc spec``, then set args, terminal off, writable root."""
    config = bundle / "config.json"
    config.unlink(missing_ok=True)
    subprocess.run([pyrunc_binary(), "spec", "--bundle", str(bundle)], check=True)
    spec = json.loads(config.read_text())
    spec["process"]["args"] = args
    spec["process"]["terminal"] = False
    spec["root"]["readonly"] = False
    if edit is not None:
        edit(spec)
    config.write_text(json.dumps(spec))
    return bundle


class Cli:
    """Runs ``pyrunc --root ROOT ...`` and deletes every container it made at teardown."""

    def __init__(self, root: Path, binary: str | None = None, *, log_format: str = "") -> None:
        self.root = root
        self.binary = binary or pyrunc_binary()
        self.extra = ["--log-format", log_format] if log_format else []
        self.outdir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "cli-out-"))
        self.ids: set[str] = set()

    def __call__(
        self, *args: str, timeout: float = 60, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run a command that does not leave a process behind; capture its output."""
        return subprocess.run(
            [self.binary, "--root", str(self.root), *self.extra, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,
        )

    def detached(self, *args: str, cid: str, timeout: float = 60) -> tuple[int, Path, Path]:
        """Run create/run -d/exec -d with stdout/stderr on files; returns (rc, out, err)."""
        self.ids.add(cid)
        out = self.outdir / f"{cid}.{len(list(self.outdir.iterdir()))}.out"
        err = out.with_suffix(".err")
        with out.open("wb") as o, err.open("wb") as e:
            rc = subprocess.run(
                [self.binary, "--root", str(self.root), *self.extra, *args],
                stdin=subprocess.DEVNULL,
                stdout=o,
                stderr=e,
                timeout=timeout,
            ).returncode
        return rc, out, err

    def state(self, cid: str) -> dict[str, Any]:
        """``pyrunc state`` parsed."""
        proc = self("state", cid)
        assert proc.returncode == 0, proc.stderr
        data: dict[str, Any] = json.loads(proc.stdout)
        return data

    def cleanup(self) -> None:
        """``delete --force`` everything this runner made, then remove its files."""
        for cid in sorted(self.ids):
            self("delete", "--force", cid)
        shutil.rmtree(self.outdir, ignore_errors=True)
