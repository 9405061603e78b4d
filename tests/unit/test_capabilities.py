"""Capability names, masks and the order of prctl/capset calls (recording syscalls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from libcontainer.capabilities import (
    CAPABILITY_NUMBERS,
    CapabilitySets,
    last_cap,
    to_mask,
)
from libcontainer.errors import ConfigError
from libcontainer.system import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
)
from libcontainer.system.recording import RecordingSyscalls


def test_mask_from_names() -> None:
    assert to_mask(["CAP_CHOWN", "CAP_KILL"], last=40) == (1 << 0) | (1 << 5)
    assert to_mask(["cap_kill"], last=40) == 1 << 5


def test_names_above_the_kernels_last_cap_are_ignored() -> None:
    """CAP_BPF (39) and CAP_CHECKPOINT_RESTORE (40) on a kernel that stops at 38."""
    names = ["CAP_KILL", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]
    assert to_mask(names, last=38) == 1 << 5
    assert to_mask(names, last=40) == (1 << 5) | (1 << 39) | (1 << 40)


def test_unknown_name_is_a_config_error_naming_the_set() -> None:
    with pytest.raises(ConfigError) as info:
        CapabilitySets.from_names(["CAP_KILL"], [], [], ["CAP_NOT_A_CAP"], [], last=40)
    assert "capabilities.Inheritable" in str(info.value)
    assert "CAP_NOT_A_CAP" in str(info.value)
    assert "unknown capability" in str(info.value)


def test_last_cap_from_proc(tmp_path: Path) -> None:
    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "sys" / "kernel" / "cap_last_cap").write_text("37\n")
    assert last_cap(str(tmp_path)) == 37
    # Unreadable: assume every name we know.
    assert last_cap(str(tmp_path / "missing")) == max(CAPABILITY_NUMBERS.values())


def test_bounding_drops_everything_else_up_to_last_cap() -> None:
    sc = RecordingSyscalls()
    sets = CapabilitySets.from_names(["CAP_KILL"], [], [], [], [], last=10)
    sets.apply_bounding(sc, last=10)
    dropped = [args[1] for name, args in sc.calls if name == "prctl" and args[0] == PR_CAPBSET_DROP]
    assert dropped == [c for c in range(11) if c != 5]


def test_ambient_raised_only_when_permitted_and_inheritable() -> None:
    sc = RecordingSyscalls()
    kill, chown, net = "CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"
    sets = CapabilitySets.from_names(
        bounding=[kill, chown, net],
        effective=[kill, net],
        permitted=[kill, net, chown],
        inheritable=[kill, chown],
        ambient=[kill, net],  # net is not inheritable: the kernel would refuse it
        last=40,
    )
    sets.apply(sc)
    assert sc.calls[0] == ("capset", (sets.effective, sets.permitted, sets.inheritable))
    assert sc.calls[1] == ("prctl", (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
    raised = [a[2] for n, a in sc.calls[2:] if n == "prctl" and a[1] == PR_CAP_AMBIENT_RAISE]
    assert raised == [CAPABILITY_NUMBERS[kill]]
