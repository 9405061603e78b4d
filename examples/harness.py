"""Run untrusted Python snippets in sandboxes, with a timeout and limits, and report.

Each snippet runs in a sandbox of its own taken from a warm pool: the host's programs
read-only, no network, a private /tmp, as nobody without capabilities, at most 64 MiB of
memory, 32 tasks and half a CPU, killed after 2 seconds. This interpreter's installation
is bound read-only into the sandboxes so that they run the same Python.

    sudo python3 examples/harness.py                  # the built-in snippets
    sudo python3 examples/harness.py a.py b.py        # your own files
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from libcontainer import sandbox

SNIPPETS = {
    "hello": "print('hello from', __import__('socket').gethostname())",
    "infinite-loop": "while True: pass",
    "memory-hog": "blocks = [bytearray(1 << 20) for _ in range(1024)]",
    "fork-bomb": "import os\nwhile True: os.fork()",
    "network": "import socket; socket.create_connection(('1.1.1.1', 53), timeout=1)",
    "write-host": "open('/usr/lib/owned', 'w')",
    "read-secrets": "print(open('/etc/shadow').read())",
    "scratch-space": "open('/tmp/x', 'w').write('ok'); print(open('/tmp/x').read())",
}

LIMITS = {"timeout": 2.0, "memory": 64 << 20, "pids": 32, "cpus": 0.5}


def report(name: str, result: sandbox.SandboxResult) -> str:
    """One line: what happened, the usage, and the last line the snippet wrote."""
    text = (result.stdout or b"") + (result.stderr or b"")
    last = text.decode(errors="replace").strip().splitlines()[-1:] or [""]
    return (
        f"{name:14} {result.reason:8} {result.returncode:5} {result.duration * 1000:8.0f} ms"
        f" {result.cpu_time * 1000:6.0f} ms {result.peak_memory / 2**20:6.1f} MiB  {last[0][:60]}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the snippets (built-in or from files); print one line per snippet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="Python files to run")
    args = parser.parse_args(argv)
    snippets = {f.name: f.read_text() for f in args.files} or SNIPPETS
    # The interpreter itself (not a virtual environment's link to it): its installation is
    # what is bound into the sandboxes.
    python = getattr(sys, "_base_executable", sys.executable)
    print(f"{'snippet':14} {'reason':8} {'code':>5} {'wall':>11} {'cpu':>9} {'peak':>10}  output")
    with sandbox.Pool(size=2, mounts=[sys.base_prefix], **LIMITS) as pool:  # type: ignore[arg-type]
        for name, code in snippets.items():
            print(report(name, pool.run([python, "-I", "-c", code])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
