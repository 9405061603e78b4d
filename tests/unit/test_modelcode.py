"""The cache of the models' attrs-generated code (libcontainer.modelcode).

Each case runs a fresh interpreter (the cache is installed when attrs is first imported),
with the cache file in a temp dir, and defines models as a module of ours would.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

_RUN = r"""
import json, sys
import libcontainer.modelcode as m
m.cache_path = lambda: sys.argv[1]
sys.dont_write_bytecode = sys.argv[3] == "nowrite"
import attrs

SOURCE = '''
import attrs

@attrs.frozen
class Point:
    x: int
    y: int = 0
    tags: tuple = ()

@attrs.define
class Box:
    items: list = attrs.field(factory=list)
'''
ns = {"__name__": sys.argv[2]}
exec(compile(SOURCE, "<models>", "exec"), ns)
Point, Box = ns["Point"], ns["Box"]
salt = hash(f"<attrs generated hash {sys.argv[2]}.Point>")
if sys.argv[4:] == ["configs"]:
    import libcontainer.configs
out = {
    "new": m._new,
    "used": len(m._used),
    "mine": sum(k.startswith(f"<attrs generated methods {sys.argv[2]}.") for k in m._used),
    "repr": repr(Point(1)),
    "eq": Point(1) == Point(1, 0) and Point(1) != Point(2),
    "hash": hash(Point(1, 2)) == hash((salt, 1, 2, ())),
    "box": repr(Box()),
    "planted": getattr(__builtins__, "planted", False),
}
m.save()
print(json.dumps(out))
"""


def python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a new interpreter with the repository on its path."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )


def define(cache: Path, module: str = "libcontainer.tests_models", *extra: str) -> dict[str, Any]:
    """Define the models in a new interpreter; what it saw, as JSON."""
    mode = extra[0] if extra else "write"
    result = python(_RUN, str(cache), module, mode, *extra[1:])
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    assert out["repr"] == "Point(x=1, y=0, tags=())"
    assert out["eq"] and out["hash"], out
    assert out["box"] == "Box(items=[])"
    return out


def test_the_second_interpreter_compiles_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "models.marshal"
    first = define(cache)
    assert first["mine"] == 2 and first["new"] >= 2 and cache.exists()
    assert cache.stat().st_mode & 0o022 == 0
    second = define(cache)
    # Same behaviour, hash salt included (it differs per process), from cached code.
    assert second["new"] == 0 and second["mine"] == 2


def test_the_library_models_are_cached(tmp_path: Path) -> None:
    cache = tmp_path / "models.marshal"
    first = define(cache, "libcontainer.tests_models", "write", "configs")
    assert first["new"] > 20
    second = define(cache, "libcontainer.tests_models", "write", "configs")
    assert second["new"] == 0 and second["used"] == first["new"]


def test_models_of_other_packages_are_left_to_attrs(tmp_path: Path) -> None:
    cache = tmp_path / "models.marshal"
    out = define(cache, "thirdparty.models")
    assert out["mine"] == 0
    assert define(cache, "thirdparty.models")["new"] == 0  # attrs' own classes were cached


def test_nothing_is_written_where_bytecode_is_not(tmp_path: Path) -> None:
    cache = tmp_path / "models.marshal"
    out = define(cache, "libcontainer.tests_models", "nowrite")
    assert out["mine"] == 2 and out["new"] >= 2
    assert not cache.exists()


def _plant(cache: Path) -> None:
    """Replace every cached entry with code that marks the interpreter it runs in."""
    define(cache)
    codes = marshal.loads(cache.read_bytes())
    evil = compile("import builtins\nbuiltins.planted = True\n", "<planted>", "exec")
    cache.write_bytes(marshal.dumps({key: marshal.dumps(evil) for key in codes}))


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "someone else's"])
def test_a_file_others_could_write_is_never_run(tmp_path: Path, how: str) -> None:
    cache = tmp_path / "models.marshal"
    _plant(cache)
    if how == "group-writable":
        cache.chmod(0o664)
    elif how == "world-writable":
        cache.chmod(0o646)
    else:
        os.chown(cache, 65534, 65534)
    out = define(cache)
    assert out["planted"] is False
    assert out["new"] >= 2  # compiled afresh


def test_the_trust_is_that_of_bytecode(tmp_path: Path) -> None:
    """A root-owned, root-only-writable file is run, as a .pyc would be: the check above is
    what keeps the cache from being a way in (the test that the planting works)."""
    cache = tmp_path / "models.marshal"
    _plant(cache)
    result = python(_RUN, str(cache), "libcontainer.tests_models", "write")
    # The planted code ran instead of attrs' methods, which are then missing.
    assert result.returncode != 0 and "KeyError: '__" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "content", [b"", b"\x00garbage", marshal.dumps([1, 2]), marshal.dumps({"k": "not code"})]
)
def test_a_corrupt_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    cache = tmp_path / "models.marshal"
    cache.write_bytes(content)
    assert define(cache)["new"] >= 2
    assert define(cache)["new"] == 0


@pytest.mark.parametrize("value", [b"garbage", marshal.dumps(5), b""])
def test_a_corrupt_entry_is_compiled_again(tmp_path: Path, value: bytes) -> None:
    cache = tmp_path / "models.marshal"
    define(cache)
    codes = marshal.loads(cache.read_bytes())
    cache.write_bytes(marshal.dumps(dict.fromkeys(codes, value)))
    assert define(cache)["new"] == len(codes)
    assert define(cache)["new"] == 0


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.marshal"
    define(real)
    link = tmp_path / "models.marshal"
    link.symlink_to(real)
    assert define(link)["new"] >= 2


def test_a_forked_child_never_writes_the_cache(tmp_path: Path) -> None:
    """A container's init is a forked child of the caller: what it compiles stays with it."""
    cache = tmp_path / "models.marshal"
    script = _RUN.replace(
        "m.save()", "pid = os.fork()\nif pid == 0:\n    m.save(); os._exit(0)\nos.waitpid(pid, 0)"
    )
    script = script.replace("import json, sys", "import json, os, sys")
    script += "sys.stdout.flush()\nos._exit(0)\n"  # and the parent saves nothing
    result = python(script, str(cache), "libcontainer.tests_models", "write")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["new"] >= 2
    assert not cache.exists()


@pytest.mark.parametrize("first", ["libcontainer", "attrs"])
def test_armed_by_the_package_installed_with_attrs(first: str) -> None:
    """``import libcontainer`` alone loads no cache code (the light commands never define a
    model); whichever of it and attrs comes first, the cache is in place once both are."""
    second = "attrs" if first == "libcontainer" else "libcontainer"
    script = f"""
import sys
import {first}
before = "libcontainer.modelcode" in sys.modules
import {second}
import attr._make
m = sys.modules["libcontainer.modelcode"]
hooks = [f for f in sys.meta_path if type(f).__name__ == "_ModelCodeHook"]
print(before, m._installed, attr._make._compile_and_eval is m._compile_and_eval, len(hooks))
"""
    result = python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "0"]
