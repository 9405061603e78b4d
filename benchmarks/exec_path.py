"""Where the time of ``pyrunc exec --process FILE --detach`` goes (the CRI's ExecSync path).

containerd's shim runs ``<runtime> --root R --log L --log-format json exec --process FILE
--detach --pid-file P ID`` for every ExecSync, i.e. for every exec probe of every pod.
This runs that command against a running busybox container (runc's default spec, ``true``
as the process) and splits its wall time three ways, in one run:

1. **wall**: the ``pyrunc`` launcher as the shim runs it, next to ``runc exec`` (ratio), and
   the interpreter's own start-up (``python -I -S -c pass``, what the launcher starts);
2. **phases**: the same command run in-process by a small harness that timestamps the
   calls on the exec path (state load, process spec, container load, the spawn of the
   setns process, cgroup join, the init's work until it execs, the pid file) and, from
   outside, the interpreter's start and exit;
3. **syscalls**: ``strace -f --seccomp-bpf`` of the launcher (only clone, setns,
   execve and exit_group are stopped on): the fork of stage-0, the ``setns`` calls of
   stage-1, the exec of the process in the container, the exit of pyrunc;

and prints the import profile (``-X importtime``) by package.

    sudo .venv/bin/python benchmarks/exec_path.py [--runs 20] [--baseline OTHER_PYRUNC]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from cli import (  # noqa: E402
    RUN,
    become_subreaper,
    import_profile,
    launcher_argv,
    make_bundle,
    pyrunc_binary,
    reap_orphans,
    startup_floors,
)

# Run in a fresh interpreter started as the launcher starts it (-I -S, the launcher's path
# passed in): ``pyrunc.__main__.run(argv)`` with the exec path's calls wrapped to record
# (name, start, end) in CLOCK_MONOTONIC, which is system-wide, so the parent can place the
# interpreter's start and exit around them. Only the first call of each name is kept (the
# container has one exec).
HARNESS = r"""
import time
T0 = time.monotonic()
import json, os, sys
sys.path.extend(json.loads(os.environ["EXEC_PATH_SYSPATH"]))
MARKS = [("python started", T0, T0)]

def mark(name, fn):
    def wrapper(*a, **kw):
        start = time.monotonic()
        try:
            return fn(*a, **kw)
        finally:
            if os.getpid() == PID and not any(m[0] == name for m in MARKS):
                MARKS.append((name, start, time.monotonic()))
    return wrapper

PID = os.getpid()
import pyrunc.__main__ as entry
MARKS.append(("imports: pyrunc.__main__", T0, time.monotonic()))
t = time.monotonic()
from pyrunc import cmd_lifecycle as cmd, handles, library
MARKS.append(("imports: pyrunc.cmd_lifecycle", t, time.monotonic()))
handles.load = mark("state.json load (lifecycle core)", handles.load)
cmd.exec_process_spec = mark("process spec (attrs, cattrs, models)", cmd.exec_process_spec)
library.write_pid_file = mark("pid file", library.write_pid_file)
library.build_process = mark("Process object", library.build_process)
_load = library.load_container

def load_container(*a, **kw):
    start = time.monotonic()
    c = _load(*a, **kw)
    MARKS.append(("container load (imports libcontainer)", start, time.monotonic()))
    from libcontainer.lifecycle import launch
    from libcontainer.spawner import fork, server
    type(c).start = mark("Container.start", type(c).start)
    launch.spawn = mark("  spawn: payload + fork + clone dance", launch.spawn)
    server.preload = mark("    preload (imports the init)", server.preload)
    fork.ForkSpawner.spawn = mark("    fork -> setns -> init cloned", fork.ForkSpawner.spawn)
    if c._manager is not None:
        type(c._manager).apply = mark("  join cgroups", type(c._manager).apply)
    launch.converse = mark("  init: Go -> exec (channel closes)", launch.converse)
    return c

library.load_container = load_container
t = time.monotonic()
code = entry.run(sys.argv[1:])
MARKS.append(("run()", t, time.monotonic()))
with open(os.environ["EXEC_PATH_MARKS"], "w") as f:
    json.dump(MARKS, f)
sys.stdout.flush()
os._exit(code)
"""


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds one command takes; it must succeed."""
    t = time.perf_counter()
    subprocess.run(
        argv,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    return time.perf_counter() - t


def harness_run(python: str, argv: list[str], marks_file: Path) -> list[tuple[str, float]]:
    """One in-process run: (phase, ms) including the interpreter's start and exit."""
    syspath = json.dumps([p for p in sys.path if "site-packages" in p or p == str(REPO)])
    env = dict(os.environ, EXEC_PATH_MARKS=str(marks_file), EXEC_PATH_SYSPATH=syspath)
    before = time.monotonic()
    subprocess.run(
        [python, "-I", "-S", "-c", HARNESS, *argv],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    after = time.monotonic()
    marks = json.loads(marks_file.read_text())
    started = marks[0][1]
    returned = next(end for name, _, end in marks if name == "run()")
    out = [("interpreter start (exec, -S)", (started - before) * 1000)]
    out += [(name, (end - start) * 1000) for name, start, end in marks[1:] if name != "run()"]
    out.append(("after run(): interpreter exit", (after - returned) * 1000))
    total = (after - before) * 1000
    accounted = sum(ms for name, ms in out if not name.startswith(" "))
    out.append(("rest (flags, log setup, between the calls)", total - accounted))
    out.append(("total", total))
    return out


def strace_run(argv: list[str], out: Path) -> dict[str, float]:
    """One traced run of the launcher: ms between its syscall landmarks."""
    subprocess.run(
        [
            "strace", "-f", "--seccomp-bpf", "-ttt", "-o", str(out),
            "-e", "trace=execve,clone,clone3,setns,exit_group", *argv,
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    lines = out.read_text().splitlines()
    first = lines[0].split()
    main_pid, t_exec = first[0], float(first[1])

    def at(pattern: str, pid: str | None = None) -> float:
        for line in lines:
            fields = line.split(None, 2)
            if (pid is None or fields[0] == pid) and re.search(pattern, fields[2]):
                return float(fields[1])
        raise AssertionError(f"no {pattern!r} in the trace")

    t_fork = at(r"^clone\(child_stack=NULL, flags=[^)]*SIGCHLD", main_pid)
    t_setns = at(r"^setns\(")
    # The process in the container is the first program another pid executes (the launcher
    # itself execs python3 in the main pid).
    t_user = next(
        float(f[1])
        for f in (line.split(None, 2) for line in lines)
        if f[0] != main_pid and f[2].startswith("execve(")
    )
    t_exit = at(r"^exit_group", main_pid)
    return {
        "execve(pyrunc) -> fork of stage-0": (t_fork - t_exec) * 1000,
        "fork -> first setns (stage-1)": (t_setns - t_fork) * 1000,
        "first setns -> execve of the process": (t_user - t_setns) * 1000,
        "execve of the process -> pyrunc exits": (t_exit - t_user) * 1000,
        "total": (t_exit - t_exec) * 1000,
    }


def main() -> int:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile first")
    parser.add_argument("--baseline", help="another pyrunc to time in the same run (wall only)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 1
    for tool in ("runc", "strace"):
        if not shutil.which(tool):
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 1
    if not args.no_compile:
        for pkg in ("pyrunc", "libcontainer", "specconv"):
            compileall.compile_dir(str(REPO / pkg), quiet=1)
    become_subreaper()  # as the shim is: the exec'd processes and the inits are reaped here
    binary = pyrunc_binary()
    python = sys.executable
    wall: dict[str, list[float]] = defaultdict(list)
    phases: dict[str, list[float]] = defaultdict(list)
    traced: dict[str, list[float]] = defaultdict(list)
    load_before = os.getloadavg()[0]  # noise from other work: the figures are only as good
    with tempfile.TemporaryDirectory(prefix="pyrunc-bench-exec-") as tmp:
        base = Path(tmp)
        bundle = make_bundle(base, binary)
        spec = json.loads((bundle / "config.json").read_text())
        spec["process"]["args"] = ["sleep", "inf"]
        (bundle / "config.json").write_text(json.dumps(spec))
        process = base / "process.json"
        process.write_text(json.dumps({**spec["process"], "args": ["true"]}))
        runtimes = {"runc": "runc", "pyrunc": binary}
        if args.baseline:
            runtimes["baseline"] = args.baseline
        commands = {}
        try:
            for name, exe in runtimes.items():
                root = base / f"{name}-root"
                for step in ("create", "start"):
                    extra = ["--bundle", str(bundle)] if step == "create" else []
                    timed([exe, "--root", str(root), step, *extra, f"{RUN}-{name}"])
                commands[name] = [
                    "--root", str(root), "--log", str(base / f"{name}.log"),
                    "--log-format", "json", "exec", "--process", str(process), "--detach",
                    "--pid-file", str(base / f"{name}.pid"), f"{RUN}-{name}",
                ]  # fmt: skip
            for name, exe in runtimes.items():  # warm the page cache
                timed([exe, *commands[name]])
            for _ in range(args.runs):
                for name, exe in runtimes.items():
                    wall[name].append(timed([exe, *commands[name]]) * 1000)
                for phase, ms in harness_run(python, commands["pyrunc"], base / "marks.json"):
                    phases[phase].append(ms)
                for phase, ms in strace_run([binary, *commands["pyrunc"]], base / "t").items():
                    traced[phase].append(ms)
                reap_orphans()
            imports, by_package = import_profile(
                [*launcher_argv(binary, "-X", "importtime"), *commands["pyrunc"]], runs=5
            )
        finally:
            for name, exe in runtimes.items():
                subprocess.run(
                    [
                        exe,
                        "--root",
                        str(base / f"{name}-root"),
                        "delete",
                        "--force",
                        f"{RUN}-{name}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            reap_orphans()
    floors = startup_floors()

    med = statistics.median
    r, p = med(wall["runc"]), med(wall["pyrunc"])
    print(f"exec --process FILE --detach, median of {args.runs} runs (ms)")
    print(f"  load average before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f}")
    print(f"  runc {r:.1f}   pyrunc {p:.1f}   ratio {p / r:.1f}x")
    if args.baseline:
        b = med(wall["baseline"])
        print(f"  baseline {b:.1f}   ratio {b / r:.1f}x   ({args.baseline})")
    for name, value in floors.items():
        print(f"  {value * 1000:6.1f}  {name}")
    print("\nphases, in-process harness (median ms; nested rows are inside the one above)")
    for phase, values in phases.items():
        print(f"  {phase:<42} {med(values):7.1f}")
    print("\nsyscall landmarks, strace --seccomp-bpf (median ms)")
    for phase, values in traced.items():
        print(f"  {phase:<42} {med(values):7.1f}")
    print(f"\nimports of the command (-X importtime, self times, median of 5): {imports:.1f} ms")
    for package, ms in by_package[:10]:
        print(f"  {package:<20} {ms:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
