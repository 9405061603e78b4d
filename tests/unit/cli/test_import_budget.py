"""The import budget of the verbs engines call on every container operation.

``pyrunc state/list/kill/start/pause/resume/delete`` must start at the interpreter's floor:
they go through the lifecycle core and import no attrs, cattrs, config models, pyroute2,
D-Bus, ``logging`` or ``subprocess``. Checked by module list (``-X importtime``), never by
time, with ``python -S`` and the repository on ``PYTHONPATH``, so site-packages (where attrs
lives) is not even reachable: an import that slipped in fails loudly as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURE = Path(os.environ["PYLIBCONTAINER_FIXTURES"]) / "runc-1.1.5-state.json"

#: The library modules the light verbs may import: the lifecycle core and what it stands on.
ALLOWED = {
    "libcontainer",
    "libcontainer.cgroups",
    "libcontainer.cgroups.freezerstate",
    "libcontainer.cgroups.fs",
    "libcontainer.cgroups.fs.freezer",
    "libcontainer.cgroups.fs2",
    "libcontainer.cgroups.fs2.freezer",
    "libcontainer.cgroups.fscommon",
    "libcontainer.cgroups.host",
    "libcontainer.cgroups.owned",
    "libcontainer.cgroups.utils",
    "libcontainer.errors",
    "libcontainer.hooks",
    "libcontainer.jsontext",
    "libcontainer.lazylog",
    "libcontainer.lifecycle",
    "libcontainer.lifecycle.execfifo",
    "libcontainer.lifecycle.handle",
    "libcontainer.lifecycle.record",
    "libcontainer.lifecycle.status",
    "libcontainer.lifecycle.store",
    "libcontainer.modelcode",  # loads only with attrs, which FORBIDDEN names
    "libcontainer.ocistate",
    "libcontainer.procinfo",
    # The default state root ($XDG_RUNTIME_DIR/pyrunc when not root), read on every call.
    "libcontainer.rootless",
}
#: Never on these paths (third-party and the heavier standard modules).
FORBIDDEN = {
    "attr",
    "attrs",
    "cattrs",
    "cffi",
    "_cffi_backend",
    "jeepney",
    "pyroute2",
    "pyudev",
    "specconv",
    "logging",
    "subprocess",
    "dataclasses",
    "threading",
    "pickle",
    "inspect",
    "argparse",
    "pathlib",
    # These cost several times what a verb does: the core reads and writes JSON without
    # the json package (libcontainer.jsontext), and spells signals and states as numbers
    # and strings (no enum, so no re either).
    "json",
    "re",
    "enum",
    "typing",
    "signal",
}
LIGHT_VERBS = (
    ("state", "c1"),
    ("list",),
    ("kill", "c1", "9"),  # engines give numbers; a name costs the signal module, once
    ("kill", "--all", "c1", "9"),
    ("start", "c1"),
    ("pause", "c1"),
    ("resume", "c1"),
    ("delete", "c1"),
)


def imported_by(argv: list[str], *, site: bool = False) -> set[str]:
    """The modules ``python -S -m pyrunc ARGV`` imports (with ``site``: without ``-S``)."""
    proc = subprocess.run(
        [sys.executable, *([] if site else ["-S"]), "-X", "importtime", "-m", "pyrunc", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }


def check_budget(modules: set[str], what: str) -> None:
    """Assert ``modules`` stay within the light verbs' budget."""
    ours = {m for m in modules if m.split(".")[0] == "libcontainer"}
    assert ours <= ALLOWED, f"{what} imports {sorted(ours - ALLOWED)}"
    heavy = {m for m in modules if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN}
    assert not heavy, f"{what} imports {sorted(heavy)}"


@pytest.mark.parametrize("verb", LIGHT_VERBS, ids=lambda v: " ".join(v))
def test_light_verbs_import_only_the_core(tmp_path: Path, verb: tuple[str, ...]) -> None:
    # A container whose init is gone: every verb loads and checks it, then acts or refuses.
    data = json.loads(FIXTURE.read_text())
    data.update(id="c1", init_process_pid=2**22)
    (tmp_path / "c1").mkdir()
    (tmp_path / "c1" / "state.json").write_text(json.dumps(data))
    modules = imported_by(["--root", str(tmp_path), *verb])
    assert "libcontainer.lifecycle.handle" in modules  # the verb did reach the core
    check_budget(modules, " ".join(verb))


def test_the_budget_catches_a_heavy_import(tmp_path: Path) -> None:
    """The check itself can fail: ``spec`` needs the spec models (attrs) and is caught."""
    modules = imported_by(["spec", "--bundle", str(tmp_path)], site=True)
    assert (tmp_path / "config.json").exists()
    assert "attrs" in modules
    with pytest.raises(AssertionError, match=r"spec imports .*'attrs'"):
        check_budget(modules, "spec")
