"""The runc create/start dance: hold a container in *created*, look at it, then start it.

``start()`` of an init process sets everything up (namespaces, mounts, cgroups, hooks) and
leaves the init blocked on ``exec.fifo``: the container is *created* and its pid is known,
but the user's program has not run yet. ``exec()`` releases it (runc's ``start``).

    sudo python3 examples/create_start.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import specconv
from libcontainer import Factory, Process

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_busybox import make_rootfs


def main() -> int:
    if os.geteuid() != 0:
        print("run me as root", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pylibcontainer-example-") as tmp:
        bundle = Path(tmp)
        make_rootfs(bundle / "rootfs")
        config = specconv.create_config(
            specconv.example(), bundle=str(bundle), cgroup_name="example-dance"
        )
        container = Factory(bundle / "state").create("example-dance", config)
        try:
            proc = Process(["sh", "-c", "echo started as pid $$"], stdout=subprocess.PIPE)
            container.start(proc)
            print(f"status after start(): {container.status().value}, init pid {proc.pid}")
            print("state:", container.oci_state())
            container.exec()
            print(f"status after exec(): {container.status().value}")
            assert proc.stdout is not None
            print(proc.stdout.read().decode(), end="")
            print(f"exit status {proc.wait()}, status now {container.status().value}")
        finally:
            container.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
