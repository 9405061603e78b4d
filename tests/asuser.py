"""Run a function in a forked child that is an unprivileged user (nobody) for real.

Checks of "may this user ..." (``os.access``, ownership, chmod of a pipe) cannot be faked
convincingly as root, where every access is granted: the child drops to uid/gid 65534 and
the kernel answers. The result (or the exception) comes back pickled.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest

NOBODY = 65534


def as_nobody(fn: Callable[[], Any]) -> Any:
    """``fn()`` run as uid and gid 65534; its exception is raised again here."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(r)
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            try:
                result: tuple[str, Any] = ("ok", fn())
            except BaseException as e:
                result = ("error", (e, traceback.format_exc()))
            data = pickle.dumps(result)
        except BaseException:
            data = pickle.dumps(("error", (RuntimeError("child failed"), traceback.format_exc())))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        exc, _text = value
        raise exc
    return value
