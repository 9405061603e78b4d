"""Helpers for integration tests (importable by test modules; fixtures live in conftest)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from testrun import unique_name

import specconv
from libcontainer import Factory, configs
from libcontainer.container import Container

SpecEdit = Callable[[dict[str, Any]], None]


def example_spec_dict(args: list[str] | None = None) -> dict[str, Any]:
    """runc's default spec as a dict, with terminal off (tests read stdout)."""
    spec: dict[str, Any] = json.loads(specconv.dump_spec(specconv.example()))
    spec["process"]["terminal"] = False
    if args is not None:
        spec["process"]["args"] = args
    return spec


def unique_id(prefix: str = "ct") -> str:
    """A container id no other test (or run) uses."""
    return unique_name(prefix)


class Factories:
    """Creates containers and destroys every one of them at teardown."""

    def __init__(self, root: Path) -> None:
        self.factory = Factory(root)
        self.containers: list[Container] = []

    def create(self, config: configs.Config, container_id: str | None = None) -> Container:
        c = self.factory.create(container_id or unique_id(), config)
        self.containers.append(c)
        return c

    def cleanup(self) -> None:
        for c in self.containers:
            try:
                c.destroy()
            except Exception as e:
                print(f"cleanup of {c.id} failed: {e}")


def run_output(container: Container, args: list[str], **kwargs: Any) -> tuple[str, int]:
    """Run ``args`` as the container's init, with the rest of the process from the bundle's
    config.json (env, cwd, user, rlimits, ...); return (stdout+stderr text, exit code)."""
    from specconv.newprocess import new_process

    spec = specconv.load_spec(str(Path(container.bundle) / "config.json"))
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    proc = new_process(spec, args=args, **kwargs)
    container.run(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return out, proc.wait()
