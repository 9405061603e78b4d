"""This test run's identity.

Everything the suite makes on the machine (temporary dirs, container ids, cgroups, network
namespaces) carries :data:`RUN_TOKEN` in its name, so the session-end leak check counts only
what *this* run made: other containers, and other test runs, may share the machine.
Subprocesses (pytester, the CLI) inherit the token through ``PYLIBCONTAINER_RUN``.
"""

from __future__ import annotations

import os
import secrets
import uuid

RUN_TOKEN = os.environ.setdefault("PYLIBCONTAINER_RUN", secrets.token_hex(3))
#: Prefix of every temporary directory a test makes.
TMP_PREFIX = f"pylct-{RUN_TOKEN}-"


def unique_name(prefix: str = "ct") -> str:
    """A name (container id, cgroup, unit) no other test, or run, uses."""
    return f"pytest-{RUN_TOKEN}-{prefix}-{uuid.uuid4().hex[:10]}"
