"""What ``pyrunc create`` and ``pyrunc exec`` build at start-up: no dataclass.

dataclasses generates every method of every class with its own ``exec()`` of source text,
which made the 22 small message and payload classes on these paths a noticeable share of a
create or an exec; they are attrs classes. (The ``dataclasses`` *module* is still imported
there, by cattrs, which only uses its helpers.) Checked by running the real commands against
a busybox container through a wrapper that records every class the ``dataclasses.dataclass``
decorator makes, in the command and in the processes it forks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_helpers import Cli, make_bundle
from testrun import unique_name

pytestmark = pytest.mark.root

# ``pyrunc ARGS`` in-process, with dataclasses.dataclass recording the classes it decorates
# (module.qualname, one line each, appended at once: the command ends with os._exit and its
# forked children never return here).
WRAPPER = """#!{python}
import dataclasses
import sys

_RECORD = {record!r}
_dataclass = dataclasses.dataclass


def _recording(cls=None, /, **kw):
    def wrap(c):
        with open(_RECORD, "a") as f:
            f.write(c.__module__ + "." + c.__qualname__ + "\\n")
        return _dataclass(c, **kw)

    return wrap if cls is None else wrap(cls)


dataclasses.dataclass = _recording
{preload}
from pyrunc.__main__ import main

main(sys.argv[1:])
"""


def recording_pyrunc(tmp_path: Path, preload: str = "") -> tuple[Path, Path]:
    """A ``pyrunc`` that records the dataclasses it defines (after running ``preload``),
    and its record file."""
    record = tmp_path / "dataclasses.txt"
    record.touch()
    wrapper = tmp_path / "pyrunc-recording"
    wrapper.write_text(WRAPPER.format(python=sys.executable, record=str(record), preload=preload))
    wrapper.chmod(0o755)
    return wrapper, record


@pytest.fixture
def recording_cli(state_root: Path, tmp_path: Path) -> Iterator[tuple[Cli, Path]]:
    """A runner whose ``pyrunc`` records the dataclasses it defines, and the record file."""
    wrapper, record = recording_pyrunc(tmp_path)
    runner = Cli(state_root, str(wrapper))
    try:
        yield runner, record
    finally:
        runner.cleanup()


def test_create_and_exec_define_no_dataclass(
    recording_cli: tuple[Cli, Path], busybox_rootfs: Path, tmp_path: Path
) -> None:
    cli, record = recording_cli
    bundle = make_bundle(busybox_rootfs.parent, ["sleep", "1000"])
    cid = unique_name("nodc")
    rc, _out, err = cli.detached("create", "--bundle", str(bundle), cid, cid=cid)
    assert rc == 0, err.read_text()
    assert cli("start", cid).returncode == 0
    # The CRI's ExecSync path: a process.json, detached.
    process = tmp_path / "process.json"
    spec = json.loads((bundle / "config.json").read_text())["process"]
    process.write_text(json.dumps({**spec, "args": ["true"]}))
    rc, _out, err = cli.detached("exec", "--process", str(process), "--detach", cid, cid=cid)
    assert rc == 0, err.read_text()
    assert record.read_text().splitlines() == []


def test_the_recording_sees_a_dataclass(tmp_path: Path) -> None:
    """The check itself can fail: a library module that still defines a dataclass (the
    network record, off these paths) is seen when the wrapper loads it."""
    wrapper, record = recording_pyrunc(tmp_path, preload="import libcontainer.network.record")
    proc = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert record.read_text() == "libcontainer.network.record.HostSide\n"
