"""What the heavier commands' paths import: the model classes they need, not every model.

Defining an attrs class costs about a millisecond (attrs compiles its methods), and a
command line pays it on every call; so ``pyrunc exec --process`` builds the five process
models and not the whole spec's, ``import specconv`` builds nothing, and a create or exec
does not build the cgroup statistics models. Checked by module list (``-X importtime``) in
a fresh interpreter, never by time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
WHOLE_SPEC = {
    "specconv.spec",
    "specconv.spec_linux",
    "specconv.spec_resources",
    "specconv._example",
}


def imported_by(code: str, *, check: bool = True) -> set[str]:
    """The modules ``python -S -c CODE`` imports (the checkout and attrs on the path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), sysconfig.get_path("purelib")])}
    proc = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_importing_specconv_builds_no_model() -> None:
    modules = imported_by("import specconv")
    assert {m for m in modules if m.startswith(("specconv.", "libcontainer"))} == set()
    assert "attrs" not in modules


def test_a_process_alone_builds_only_the_process_models() -> None:
    code = (
        "import specconv\n"
        "p = specconv.process_args(specconv.parse_process({'args': ['sh'], 'cwd': '/', "
        "'user': {'uid': 1}, 'capabilities': {'bounding': ['CAP_KILL']}, "
        "'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1, 'soft': 1}]}))\n"
        "assert p.uid == 1 and p.rlimits[0].hard == 1, p\n"
    )
    modules = imported_by(code)
    assert "specconv.spec_process" in modules
    assert modules & WHOLE_SPEC == set()


def test_the_whole_spec_still_loads_for_a_bundle() -> None:
    # The check above can fail: parse_spec builds every model.
    modules = imported_by("import specconv; specconv.parse_spec({'ociVersion': '1.0.2'})")
    assert {"specconv.spec", "specconv.spec_linux", "specconv.spec_resources"} <= modules


@pytest.mark.parametrize(
    "module", ["libcontainer.cgroups.fs.manager", "libcontainer.cgroups.fs2.manager"]
)
def test_cgroup_managers_load_the_stats_models_on_first_use(module: str) -> None:
    modules = imported_by(f"import {module}")
    assert "libcontainer.cgroups.stats" not in modules
    assert "libcontainer.cgroups.fs2.stats" not in modules


def test_starting_a_container_without_veths_loads_no_network_machinery() -> None:
    # Container.start calls create_interfaces for every container; with no veth networks it
    # returns at once and must not have paid for secrets (hmac, hashlib) or the counters.
    modules = imported_by(
        "from libcontainer.network.interfaces import create_interfaces\n"
        "create_interfaces((), 1, '/nonexistent')\n"
    )
    assert "secrets" not in modules
    assert "libcontainer.network.stats" not in modules


#: Never imported by the light verbs as the launcher runs them (``-m pyrunc`` would import
#: runpy, importlib and contextlib itself, which is why the budget test cannot check these).
LAUNCHED_FORBIDDEN = {"typing", "importlib", "contextlib", "runpy", "logging", "argparse"}


@pytest.mark.parametrize(
    "verb", [("state", "c1"), ("kill", "c1", "KILL"), ("start", "c1"), ("delete", "c1")]
)
def test_light_verbs_through_the_launcher_import_no_typing(
    tmp_path: Path, verb: tuple[str, ...]
) -> None:
    # A container whose init is gone: each verb loads and checks it, then acts or refuses.
    fixture = Path(os.environ["PYLIBCONTAINER_FIXTURES"]) / "runc-1.1.5-state.json"
    data = json.loads(fixture.read_text())
    data.update(id="c1", init_process_pid=2**22)
    (tmp_path / "c1").mkdir()
    (tmp_path / "c1" / "state.json").write_text(json.dumps(data))
    launcher = REPO / "bin" / "pyrunc"
    modules = imported_by(
        "import sys\n"
        f"sys.argv = [{str(launcher)!r}, '--root', {str(tmp_path)!r}, *{list(verb)!r}]\n"
        f"exec(compile(open({str(launcher)!r}).read(), {str(launcher)!r}, 'exec'))\n",
        check=False,
    )
    assert "libcontainer.lifecycle.handle" in modules  # the verb did reach the core
    assert modules & LAUNCHED_FORBIDDEN == set()
