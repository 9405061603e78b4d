"""The spawner helper: a warm, single-threaded Python process that clones container processes.

Why a helper at all: the container's init must run Python (mounts, pivot_root, caps) before
it execs the user's program. Forking the *caller* to get there is unsafe when the caller has
threads (a lock held by another thread at fork time stays locked forever in the child), and
re-executing a fresh interpreter per container costs 20-40 ms. So the caller starts this
helper once (through subprocess, which is fork-safe), the helper imports everything the init
needs, and then serves requests: each one is a clone (see nsenter/nsenter.c) whose stage-2
continues in this already-warm interpreter. Stages are cloned with CLONE_PARENT, so the
container process is the caller's child, not ours: the caller waits for it like for any
subprocess, and it survives this helper.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

from libcontainer import stagelog
from libcontainer.configs import IDMap
from libcontainer.errors import os_reason
from libcontainer.network import preload_for
from libcontainer.procinfo import is_alive, start_time
from libcontainer.system import PR_SET_DUMPABLE, linux

from .protocol import Guard, Release, SpawnRequest, SpawnResult, recv_obj, send_obj

# struct nsenter_msg from nsenter.h: int type; int value; char text[200].
_MSG = struct.Struct("ii200s")
_MSG_USERMAP, _MSG_CHILD, _MSG_ERROR, _MSG_USERMAP_ACK = 1, 2, 3, 4


def preload() -> None:
    """Import everything a container process runs, while we still see the host's files."""
    import codecs

    import libcontainer.init.main  # noqa: F401

    # Codecs are imported on first use; the init uses these (hostname, ttyname, errors).
    for name in ("ascii", "latin-1", "idna", "utf-8", "utf-16", "utf-32"):
        codecs.lookup(name)


def _map_text(mappings: tuple[IDMap, ...]) -> str:
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in mappings)


def _write_maps(pid: int, req: SpawnRequest) -> None:
    """The parent's half of the user-namespace handshake (runc's update_setgroups and
    update_uidmap): each map is written directly, and only where that is refused (an
    unprivileged caller mapping more than its own id) through newuidmap/newgidmap."""
    if req.setgroups_deny:
        with open(f"/proc/{pid}/setgroups", "w") as f:
            f.write("deny")
    for kind, maps, tool in (
        ("uid", req.uid_mappings, req.newuidmap),
        ("gid", req.gid_mappings, req.newgidmap),
    ):
        if not maps:
            continue
        try:
            with open(f"/proc/{pid}/{kind}_map", "w") as f:
                f.write(_map_text(maps))
            continue
        except PermissionError:
            if not tool:
                raise
        args = [tool, str(pid)]
        for m in maps:
            args += [str(m.container_id), str(m.host_id), str(m.size)]
        subprocess.run(args, check=True, capture_output=True)


def _map_error(e: OSError | subprocess.CalledProcessError) -> str:
    """What went wrong writing the maps: newuidmap's own words, or the file and errno."""
    if isinstance(e, subprocess.CalledProcessError):
        said = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        tool = os.path.basename(str(e.cmd[0]))
        return f"{tool} failed (status {e.returncode}): {said[-1] if said else 'no message'}"
    return f"{e.filename}: {os_reason(e)}" if e.filename else os_reason(e)


def serve_one(ctl: socket.socket, req: SpawnRequest, fds: list[int]) -> SpawnResult:
    """Clone the process ``req`` describes; in stage-2 this never returns (it runs the init).

    Returns, in the spawner, stage-1's pid (the caller reaps it) and the final pid, or an
    error. ``ctl`` is closed in stage-2 so that the container never holds our channel.
    """
    # Heavy imports a container process may need happen here, in the spawner, never after
    # the clone (inside the container an import would read the container's files).
    preload_for(req.payload.config.routes)
    joins: list[tuple[int, int]] = []
    try:
        for path, nstype in req.join:
            joins.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), nstype))
    except OSError as e:
        for fd, _ in joins:
            os.close(fd)
        return SpawnResult(error=f"open namespace {e.filename}: {os_reason(e)}")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    stagelog.stage0_begin(req.payload, fds)
    try:
        log_fd = stagelog.stage1_fd(req.payload, fds)
        pid = linux().spawn(theirs.fileno(), req.clone_flags, joins, req.become_root, log_fd)
    except OSError as e:
        ours.close()
        theirs.close()
        for fd, _ in joins:
            os.close(fd)
        return SpawnResult(error=str(e))
    if pid == 0:
        # Stage-2: from here on we are the container process. Never return to the loop.
        ctl.close()
        ours.close()
        _run_stage2(req, fds)
    theirs.close()
    for fd, _ in joins:
        os.close(fd)
    return stagelog.stage0_end(req.payload, fds, pid, _handshake(ours, pid, req))


def _handshake(sock: socket.socket, stage1: int, req: SpawnRequest) -> SpawnResult:
    with sock:
        while True:
            data = sock.recv(_MSG.size)
            if not data:
                return SpawnResult(stage1, error="namespace setup process exited unexpectedly")
            kind, value, raw = _MSG.unpack(data)
            if kind == _MSG_USERMAP:
                try:
                    _write_maps(value, req)
                except (OSError, subprocess.CalledProcessError) as e:
                    # Stage-1 holds a copy of this socket (it was cloned from us), so
                    # closing ours is no EOF for it: tell it to give up, or it waits for
                    # the maps forever (and the caller, reaping it, with it).
                    sock.send(_MSG.pack(_MSG_ERROR, 0, b""))
                    return SpawnResult(stage1, error=f"writing uid/gid maps: {_map_error(e)}")
                sock.send(_MSG.pack(_MSG_USERMAP_ACK, 0, b""))
            elif kind == _MSG_CHILD:
                return SpawnResult(stage1, value)
            elif kind == _MSG_ERROR:
                text = raw.split(b"\0", 1)[0].decode(errors="replace")
                return SpawnResult(stage1, error=f"{text}: {os.strerror(value).lower()}")


def _run_stage2(req: SpawnRequest, fds: list[int]) -> None:
    code = 1
    try:
        from libcontainer.init.main import run

        run(req.payload, fds)
    except BaseException:
        pass
    finally:
        os._exit(code)


def _undo_guarded(guarded: dict[int, tuple[int | None, Guard]]) -> None:
    """The caller died mid-create: kill each half-made init, remove its cgroups and state."""
    for pid, (started, guard) in guarded.items():
        if started is not None and start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5
            while is_alive(pid, started) and time.monotonic() < deadline:
                time.sleep(0.005)
        for path in sorted(guard.cgroup_paths, key=len, reverse=True):
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # EBUSY until the killed tasks are gone
        shutil.rmtree(guard.state_dir, ignore_errors=True)


def main(ctl_fd: int) -> None:
    """Serve spawn requests on ``ctl_fd`` until the caller closes it."""
    # A container sharing the host's PID namespace can see us; non-dumpable means its
    # root cannot open /proc/<us>/exe (the host's python) or our fds (CVE-2019-5736).
    linux().prctl(PR_SET_DUMPABLE, 0)
    preload()
    # Every container process is a copy-on-write clone of us: keep the collector from
    # walking (and so writing to, and so copying) every object in each clone.
    gc.collect()
    gc.freeze()
    ctl = socket.socket(fileno=ctl_fd)
    guarded: dict[int, tuple[int | None, Guard]] = {}
    while True:
        try:
            obj, fds = recv_obj(ctl)
        except ConnectionResetError:
            obj, fds = None, []
        if obj is None:
            _undo_guarded(guarded)
            os._exit(0)
        if isinstance(obj, Release):
            guarded.pop(obj.pid, None)  # one way: the caller does not wait for an answer
            continue
        assert isinstance(obj, SpawnRequest)
        try:
            result = serve_one(ctl, obj, fds)
        except Exception as e:
            result = SpawnResult(error=f"spawner: {e}")
        if obj.guard is not None and result.pid:
            guarded[result.pid] = (start_time(result.pid), obj.guard)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        send_obj(ctl, result)


if __name__ == "__main__":
    main(int(sys.argv[1]))
