"""The devices.list emulator and the minimal transition between two rule sets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from libcontainer.cgroups.devices import Emulator, device_type_char
from libcontainer.configs import DeviceRule, DeviceType
from libcontainer.errors import CgroupError

FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])


def rule(kind: str, major: int, minor: int, perms: str, allow: bool) -> DeviceRule:
    return DeviceRule(
        type=DeviceType(kind), major=major, minor=minor, permissions=perms, allow=allow
    )


def lines(source: Emulator, target: Emulator) -> list[tuple[str, str]]:
    return [(r.file, r.cgroup_string()) for r in source.transition(target)]


def test_from_list_whitelist_and_blacklist() -> None:
    emu = Emulator.from_list("c 1:3 rwm\nc 1:3 r\nb *:* m\nc 136:* rw\n")
    assert not emu.is_blacklist
    assert lines(Emulator(), emu) == [
        ("devices.allow", "b *:* m"),
        ("devices.allow", "c 1:3 rwm"),
        ("devices.allow", "c 136:* rw"),
    ]
    assert Emulator.from_list("a *:* rwm\n").is_blacklist
    assert Emulator.from_list("") == Emulator()


@pytest.mark.parametrize("line", ["x 1:3 rwm", "c 1:3", "c a:3 r", "c 1:3 rwx"])
def test_from_list_rejects_garbage(line: str) -> None:
    with pytest.raises(CgroupError, match=r"cannot parse devices\.list line"):
        Emulator.from_list(line + "\n")


def test_new_cgroup_gets_deny_all_then_allows_in_sorted_order() -> None:
    """A new cgroup inherits "a *:* rwm"; runc writes deny-all, then each allow, sorted."""
    state = json.loads((FIXTURES / "runc-1.1.5-state.json").read_text())
    rules = [
        rule(chr(d["type"]), d["major"], d["minor"], d["permissions"], d["allow"])
        for d in state["config"]["cgroups"]["devices"]
    ]
    current = Emulator.from_list("a *:* rwm\n")
    assert lines(current, Emulator.from_rules(rules)) == [
        ("devices.deny", "a *:* rwm"),
        ("devices.allow", "b *:* m"),
        ("devices.allow", "c *:* m"),
        ("devices.allow", "c 1:3 rwm"),
        ("devices.allow", "c 1:5 rwm"),
        ("devices.allow", "c 1:7 rwm"),
        ("devices.allow", "c 1:8 rwm"),
        ("devices.allow", "c 1:9 rwm"),
        ("devices.allow", "c 5:0 rwm"),
        ("devices.allow", "c 5:2 rwm"),
        ("devices.allow", "c 10:200 rwm"),
        ("devices.allow", "c 136:* rwm"),
    ]


def test_update_only_writes_the_difference() -> None:
    current = Emulator.from_list("c 1:3 rwm\nc 1:5 rwm\nc 4:1 r\n")
    target = Emulator.from_rules(
        [
            rule("a", -1, -1, "rwm", False),
            rule("c", 1, 3, "rwm", True),
            rule("c", 1, 5, "r", True),
            rule("c", 4, 1, "rw", True),
            rule("b", 8, 0, "r", True),
        ]
    )
    assert lines(current, target) == [
        ("devices.deny", "c 1:5 wm"),
        ("devices.allow", "c 4:1 w"),
        ("devices.allow", "b 8:0 r"),
    ]
    assert lines(target, target) == []


def test_switch_to_blacklist() -> None:
    current = Emulator.from_list("c 1:3 rwm\n")
    target = Emulator.from_rules([rule("a", -1, -1, "rwm", True), rule("c", 4, 1, "w", False)])
    assert target.is_blacklist
    assert lines(current, target) == [
        ("devices.allow", "a *:* rwm"),
        ("devices.deny", "c 4:1 w"),
    ]


def test_blacklist_source_always_resets() -> None:
    # devices.list cannot show a deny list's exceptions, so the reset is unavoidable.
    target = Emulator.from_rules([rule("a", -1, -1, "rwm", True)])
    assert lines(Emulator.from_list("a *:* rwm\n"), target) == [("devices.allow", "a *:* rwm")]


def test_allow_then_deny_cancels() -> None:
    emu = Emulator.from_rules([rule("c", 1, 3, "rwm", True), rule("c", 1, 3, "wm", False)])
    assert lines(Emulator(), emu) == [("devices.allow", "c 1:3 r")]


def test_cannot_punch_a_hole_in_a_wildcard() -> None:
    with pytest.raises(CgroupError, match=r"cannot punch a hole in the wildcard rule c \*:\* m"):
        Emulator.from_rules([rule("c", -1, -1, "m", True), rule("c", 1, 3, "m", False)])
    with pytest.raises(CgroupError, match=r"wildcard rule c 1:\* r"):
        Emulator.from_rules([rule("c", 1, -1, "r", True), rule("c", 1, 3, "rw", False)])
    # Non-overlapping permissions are fine.
    Emulator.from_rules([rule("c", -1, -1, "m", True), rule("c", 1, 3, "rw", False)])


def test_rejects_fifo_and_bad_permissions() -> None:
    with pytest.raises(CgroupError, match="only 'a', 'b' and 'c' rules"):
        Emulator.from_rules([rule("p", 1, 3, "rwm", True)])
    with pytest.raises(CgroupError, match="invalid device permissions 'rx'"):
        Emulator.from_rules([rule("c", 1, 3, "rx", True)])


def test_device_type_char() -> None:
    assert device_type_char(DeviceType.CHAR) == "c"
    assert device_type_char(99) == "c"
    assert device_type_char("b") == "b"
