"""The package as pip users get it: ``python -m build --sdist``, then ``pip install`` of that
sdist into a fresh virtual environment (the wheel is built from the sdist there, compiling
``nsenter/``), then a real busybox container through the installed library and through the
installed ``pyrunc`` command (the launcher, ``bin/pyrunc``). Nothing of the checkout is on
the path while they run.

Needs root (containers) and a reachable pip index: the build backend (setuptools, cffi) and
the dependencies come from it, as they do for a user. Deselect with ``-m "not network"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from testrun import TMP_PREFIX, unique_name

import specconv

pytestmark = [pytest.mark.root, pytest.mark.network]

REPO = Path(__file__).resolve().parents[2]
# pip's own retries and its configured timeout would turn "no index" into minutes.
PIP_QUIET = ["--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "60"]
PROBE_OPTIONS = ["--disable-pip-version-check", "--retries", "0", "--timeout", "15"]

LIBRARY_CLIENT = textwrap.dedent(
    """
    import json, subprocess, sys
    import specconv
    import libcontainer, libcontainer._nsenter
    from libcontainer import Factory, Process

    bundle, root, cid = sys.argv[1:4]
    spec = specconv.load_spec(bundle + "/config.json")
    config = specconv.create_config(spec, bundle=bundle, cgroup_name=cid)
    container = Factory(root).create(cid, config)
    try:
        proc = Process(["sh", "-c", "echo hello from $(hostname)"], stdout=subprocess.PIPE)
        container.run(proc)
        out = proc.stdout.read().decode()
        code = proc.wait()
    finally:
        container.destroy()
    print(json.dumps({"out": out, "code": code, "libcontainer": libcontainer.__file__,
                      "nsenter": libcontainer._nsenter.__file__,
                      "specconv": specconv.__file__}))
    """
)


def _pip_index_reachable() -> str:
    """'' when pip reaches its index, else why not (one small query: setuptools's versions)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "index", "versions", "setuptools", *PROBE_OPTIONS],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return "pip index versions setuptools timed out"
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"pip index versions setuptools failed: {last}"
    return ""


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """This module's scratch directory (sources, sdist, venv, state root); removed after."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the installed package runs real containers")
    try:
        import build  # noqa: F401  (the `python -m build` front end, from the dev extra)
    except ImportError:
        pytest.skip("`build` is not installed in this environment (pip install -e '.[dev]')")
    why = _pip_index_reachable()
    if why:
        pytest.skip(
            f"no pip index: {why}; installing the sdist needs setuptools, cffi and the "
            "dependencies from it"
        )
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "packaging-"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _copy_sources(dest: Path) -> None:
    """The files a clone has (tracked, plus new files git does not ignore), so neither the
    checkout's build products nor its venv reach the sdist, and the build writes nothing
    (egg-info) into the checkout."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
    )
    if listed.returncode != 0:  # not a git checkout (an unpacked sdist): take the tree
        shutil.copytree(
            REPO, dest, ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "*.so")
        )
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        src = REPO / name
        if src.is_file():  # a deleted but still tracked file is listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


@pytest.fixture(scope="module")
def sdist(work: Path) -> Path:
    """``python -m build --sdist`` of the checkout's sources."""
    src = work / "src"
    src.mkdir()
    _copy_sources(src)
    out = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(work / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (found,) = (work / "dist").glob("pylibcontainer-*.tar.gz")
    return found


@pytest.fixture(scope="module")
def venv(work: Path, sdist: Path) -> Path:
    """A fresh virtual environment with the sdist pip-installed (build isolation on: the
    backend is fetched as for any user) and nothing of the checkout on its path."""
    env = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    out = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", *PIP_QUIET, str(sdist)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=work,
        env=_clean_env(),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return env


def _clean_env() -> dict[str, str]:
    """The caller's environment without a path into the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_the_sdist_carries_the_c_sources_and_no_build_products(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in (
        "nsenter/build.py",
        "nsenter/nsenter.c",
        "nsenter/nsenter.h",
        "setup.py",
        "pyproject.toml",
        "README.md",
        "libcontainer/__init__.py",
        "libcontainer/py.typed",
        "specconv/__init__.py",
        "pyrunc/__main__.py",
        "bin/pyrunc",
        "tests/fixtures/runc-1.1.5-state.json",
    ):
        assert needed in names, f"{needed} is missing from {sdist.name}"
    built = sorted(n for n in names if n.endswith((".so", ".o", ".pyc")))
    assert built == [], f"build products in the sdist: {built}"
    assert not any(n.startswith((".venv/", ".git/", "build/")) for n in names)


def test_the_installed_library_runs_a_container(
    venv: Path, work: Path, busybox_rootfs: Path
) -> None:
    bundle = busybox_rootfs.parent
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(spec))
    root = work / "state-lib"
    cid = unique_name("pkg-lib")
    python = str(venv / "bin" / "python")
    try:
        # -I: neither PYTHONPATH nor the working directory may bring in the checkout.
        out = subprocess.run(
            [python, "-I", "-c", LIBRARY_CLIENT, str(bundle), str(root), cid],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=work,
            env=_clean_env(),
        )
    finally:
        _force_delete(venv, root, cid)
    assert out.returncode == 0, out.stderr[-3000:]
    info = json.loads(out.stdout.splitlines()[-1])
    site = str(venv / "lib")
    for module in ("libcontainer", "nsenter", "specconv"):
        assert info[module].startswith(site), f"{module} came from {info[module]}, not the venv"
    assert info["nsenter"].endswith(".so")  # compiled from nsenter/ by pip, from the sdist
    assert info["out"] == "hello from runc\n"
    assert info["code"] == 0
    assert not (root / cid).exists()


def test_the_installed_pyrunc_runs_a_container(
    venv: Path, work: Path, busybox_rootfs: Path
) -> None:
    pyrunc = venv / "bin" / "pyrunc"
    # The launcher as shipped (pip copies a "#!/bin/sh" script as is): it starts the venv's
    # python3 with -I -S and puts the venv's site-packages on the path itself.
    assert pyrunc.read_text() == (REPO / "bin" / "pyrunc").read_text()
    bundle = busybox_rootfs.parent
    env = _clean_env()
    subprocess.run(
        [str(pyrunc), "spec", "--bundle", str(bundle)], check=True, env=env, cwd=work, timeout=60
    )
    config = bundle / "config.json"
    spec = json.loads(config.read_text())
    spec["process"]["args"] = ["sh", "-c", "echo hello from pyrunc in $(hostname)"]
    spec["process"]["terminal"] = False
    config.write_text(json.dumps(spec))
    root = work / "state-cli"
    cid = unique_name("pkg-cli")
    try:
        run = subprocess.run(
            [str(pyrunc), "--root", str(root), "run", "--bundle", str(bundle), cid],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=120,
        )
        listed = subprocess.run(
            [str(pyrunc), "--root", str(root), "list", "-q"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        _force_delete(venv, root, cid)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == "hello from pyrunc in runc\n"
    assert listed.returncode == 0, listed.stderr
    assert cid not in listed.stdout.split()  # `run` deletes the container after it exits


def _force_delete(venv: Path, root: Path, cid: str) -> None:
    """Remove the container whatever state a failed test left it in (runc's state format:
    the installed pyrunc can delete what the installed library made)."""
    if (root / cid).exists():
        subprocess.run(
            [str(venv / "bin" / "pyrunc"), "--root", str(root), "delete", "--force", cid],
            capture_output=True,
            env=_clean_env(),
            timeout=60,
        )
