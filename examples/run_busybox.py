"""Run ``echo`` in a fresh busybox container and print what it said.

Needs root and Debian's busybox-static. Builds a throw-away bundle (rootfs + config.json
from ``specconv.example()``), creates the container with the library, runs it, destroys it.

    sudo python3 examples/run_busybox.py
    python3 examples/run_busybox.py --make-rootfs bundle/rootfs   # only build a rootfs
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import specconv
from libcontainer import Factory, Process


def make_rootfs(rootfs: Path) -> None:
    """A minimal rootfs: busybox-static and its applet links."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    (rootfs / "bin").mkdir(parents=True)
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        (rootfs / d).mkdir()
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout
    for applet in applets.split():
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\n")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-rootfs":
        # Just build a busybox rootfs (for `pyrunc spec` + `pyrunc run`, see the README).
        make_rootfs(Path(sys.argv[2]))
        return 0
    if os.geteuid() != 0:
        print("run me as root: containers need namespaces, mounts and cgroups", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pylibcontainer-example-") as tmp:
        bundle = Path(tmp)
        make_rootfs(bundle / "rootfs")
        spec = specconv.example()
        (bundle / "config.json").write_text(specconv.dump_spec(spec))

        spec = specconv.load_spec(str(bundle / "config.json"))
        config = specconv.create_config(spec, bundle=str(bundle), cgroup_name="example-busybox")
        factory = Factory(bundle / "state")
        container = factory.create("example-busybox", config)
        try:
            proc = Process(
                ["sh", "-c", "echo hello from $(hostname), I am pid $$"],
                stdout=subprocess.PIPE,
            )
            container.run(proc)
            assert proc.stdout is not None
            print(proc.stdout.read().decode(), end="")
            print(f"exit status: {proc.wait()}")
        finally:
            container.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
