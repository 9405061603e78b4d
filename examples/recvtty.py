"""Receive a container's pty master over a console socket (like runc's ``recvtty``).

Listens on a unix socket; each runtime that connects (``Process(terminal=True,
console_socket=PATH)`` or ``pyrunc run --console-socket PATH``) sends the pty master fd
(SCM_RIGHTS). The default mode copies the container's output to our stdout and our stdin
to the container; ``--mode null`` just drains the output.

    python3 examples/recvtty.py /tmp/console.sock
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import sys
import threading

from libcontainer.console import recv_console


def copy_loop(master: int, mode: str) -> None:
    """Pump bytes between the pty master and our stdio until the container side closes."""
    sel = selectors.DefaultSelector()
    sel.register(master, selectors.EVENT_READ)
    if mode == "single" and sys.stdin.isatty() is False:
        sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            try:
                data = os.read(key.fd, 4096)
            except OSError:  # EIO: the slave side is gone (the container exited)
                data = b""
            if not data:
                if key.fd == master:
                    os.close(master)
                    return
                sel.unregister(key.fd)
                continue
            if key.fd == master:
                if mode == "single":
                    os.write(sys.stdout.fileno(), data)
            else:
                os.write(master, data)


def serve(path: str, mode: str, once: bool) -> None:
    """Accept runtimes on ``path`` and handle the pty each one sends."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(8)
        try:
            while True:
                conn, _ = server.accept()
                with conn:
                    name, master = recv_console(conn)
                print(f"recvtty: got {name}", file=sys.stderr)
                if once:
                    copy_loop(master, mode)
                    return
                threading.Thread(target=copy_loop, args=(master, mode), daemon=True).start()
        finally:
            os.unlink(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket_path")
    parser.add_argument("--mode", choices=["single", "null"], default="single")
    parser.add_argument("--no-once", action="store_true", help="keep serving after one pty")
    args = parser.parse_args()
    serve(args.socket_path, args.mode, once=not args.no_once)
    return 0


if __name__ == "__main__":
    sys.exit(main())
