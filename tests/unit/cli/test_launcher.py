"""The ``pyrunc`` launcher (``bin/pyrunc``): Python started isolated and without ``site``.

Each test installs the launcher into a fresh virtual environment in a temp dir, as pip
installs it (a copy in ``bin/``, next to that environment's ``python3``), with the checkout
and this environment's site-packages (attrs, cattrs) reached the ways installs reach them:
a ``.pth`` path line, or an import hook that only ``site`` runs. Nothing needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "bin" / "pyrunc"
SITE = sysconfig.get_path("purelib")
PROBE = "import sys; print(sys.flags.isolated, sys.flags.no_site, 'site' in sys.modules)"


def make_venv(base: Path) -> Path:
    """A venv without pip, holding a copy of the launcher; returns its site-packages."""
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    shutil.copy2(LAUNCHER, venv / "bin" / "pyrunc")
    (site,) = (venv / "lib").glob("python*/site-packages")
    return site


def pyrunc(
    venv_site: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the venv's launcher with ``args``."""
    binary = venv_site.parents[2] / "bin" / "pyrunc"
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


def write_probe_package(where: Path, name: str = "pyrunc") -> None:
    """A stand-in ``pyrunc`` package whose ``main`` prints how the interpreter was started."""
    pkg = where / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(f"def main():\n    {PROBE}\n")


@pytest.fixture
def venv_site(tmp_path: Path) -> Path:
    """A venv whose site-packages reaches the checkout and attrs through a .pth path line."""
    site = make_venv(tmp_path)
    lines = ["# the checkout, as editable_mode=compat writes it", str(REPO), SITE]
    (site / "checkout.pth").write_text("\n".join(lines) + "\n")
    return site


def test_the_launcher_is_a_shell_script_pip_leaves_alone() -> None:
    # pip rewrites only "#!python" lines (and drops their flags); this one it copies as is.
    assert LAUNCHER.read_text().startswith("#!/bin/sh\n")
    assert os.access(LAUNCHER, os.X_OK)


def test_runs_the_real_pyrunc(venv_site: Path) -> None:
    out = pyrunc(venv_site, "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pyrunc version ")


def test_python_is_isolated_and_without_site(venv_site: Path, tmp_path: Path) -> None:
    # The probe package sits directly in site-packages: the launcher's first place to look.
    write_probe_package(venv_site)
    # site would import this; under -S nothing does.
    (venv_site / "sitecustomize.py").write_text(f"open({str(tmp_path / 'site-ran')!r}, 'w')\n")
    out = pyrunc(venv_site)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "False"]
    assert not (tmp_path / "site-ran").exists()


def test_pythonpath_and_the_working_directory_are_ignored(venv_site: Path, tmp_path: Path) -> None:
    # A root command must not run whatever a caller's environment or directory holds.
    for where in (tmp_path / "env", tmp_path / "cwd"):
        write_probe_package(where)
        (where / "pyrunc" / "__main__.py").write_text("raise SystemExit('hijacked')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "env"), "PYTHONSTARTUP": "/nonexistent"}
    out = pyrunc(venv_site, "--version", env=env, cwd=tmp_path / "cwd")
    assert out.returncode == 0, out.stderr
    assert "hijacked" not in out.stdout + out.stderr
    assert out.stdout.startswith("pyrunc version ")


def test_a_symlink_to_the_launcher_finds_its_environment(venv_site: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "pyrunc"
    link.parent.mkdir()
    link.symlink_to(venv_site.parents[2] / "bin" / "pyrunc")
    out = subprocess.run([str(link), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pyrunc version ")


def test_an_import_hook_install_falls_back_to_site(tmp_path: Path) -> None:
    # Editable installs in setuptools' default mode reach the package through an import
    # line in a .pth file, which only `site` runs: slower, but it must still work.
    site = make_venv(tmp_path)
    hook = f"import sys; sys.path[:0] = [{str(REPO)!r}, {SITE!r}]\n"
    (site / "__editable__.hook.pth").write_text(hook)
    out = pyrunc(site, "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pyrunc version ")


def test_no_package_is_a_clear_error(tmp_path: Path) -> None:
    site = make_venv(tmp_path)
    out = pyrunc(site, "--version")
    assert out.returncode == 1
    assert "the pyrunc package is not installed for" in out.stderr
    assert "Traceback" not in out.stderr


def test_output_is_complete_before_the_quick_exit(venv_site: Path) -> None:
    # The command ends with os._exit, after flushing: a pipe gets every byte.
    from pyrunc.__main__ import help_text

    out = pyrunc(venv_site, "help")
    assert out.returncode == 0, out.stderr
    assert out.stdout == help_text()


def test_the_python_part_is_valid_after_the_shell_part(tmp_path: Path) -> None:
    # The file is also run as Python directly (benchmarks, -X importtime): the shell lines
    # are one string literal to it.
    code = compile(LAUNCHER.read_text(), str(LAUNCHER), "exec")
    assert "_load_main" in code.co_names
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = [{str(LAUNCHER)!r}, "--version"]
        sys.path[:0] = [{str(REPO)!r}, {SITE!r}]
        exec(compile(open({str(LAUNCHER)!r}).read(), {str(LAUNCHER)!r}, "exec"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pyrunc version ")
