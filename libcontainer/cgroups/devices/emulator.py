"""An emulator of the v1 devices controller (runc's ``devices_emulator.go``).

The kernel only tells us a cgroup's allow list (``devices.list``), and only accepts changes as
``devices.allow`` / ``devices.deny`` writes. The emulator models both the current state (read
from ``devices.list``) and the wanted state (built from the config's rules), and
:meth:`Emulator.transition` computes the fewest writes that take one to the other, so that
updating a running container never briefly denies a device it keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.configs import DeviceRule

__all__ = ["WILDCARD", "Emulator", "Rule", "device_type_char"]

WILDCARD = -1
"""A major or minor number meaning "any" (``*`` in cgroup syntax)."""

_PERM_ORDER = "rwm"
_LIST_LINE = re.compile(r"^([abc])\s+(\d+|\*):(\d+|\*)\s+([rwm]+)$")


def device_type_char(device_type: object) -> str:
    """The one-letter cgroup form of a device type (``a``, ``b``, ``c``, ``p``).

    Accepts a str or int enum (runc stores the type as a rune, so JSON has 97/98/99) or a
    plain letter.
    """
    value = getattr(device_type, "value", device_type)
    if isinstance(value, int):
        return chr(value)
    return str(value)


def _perms(text: str) -> frozenset[str]:
    bad = set(text) - set(_PERM_ORDER)
    if bad:
        raise CgroupError(f"invalid device permissions {text!r}: only 'r', 'w' and 'm' are allowed")
    return frozenset(text)


def _perm_string(perms: frozenset[str]) -> str:
    return "".join(p for p in _PERM_ORDER if p in perms)


@attrs.frozen(order=True)
class _Meta:
    # Field order gives runc's sort order: by major, then minor, then type.
    major: int
    minor: int
    node: str


@attrs.frozen
class Rule:
    """One line to write to ``devices.allow`` (``allow``) or ``devices.deny``."""

    type: str
    major: int
    minor: int
    permissions: str
    allow: bool

    @property
    def file(self) -> str:
        """The control file this rule is written to."""
        return "devices.allow" if self.allow else "devices.deny"

    def cgroup_string(self) -> str:
        """The rule in cgroup syntax, e.g. ``c 1:3 rwm`` or ``a *:* rwm``."""
        major = "*" if self.major == WILDCARD else str(self.major)
        minor = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.type} {major}:{minor} {self.permissions}"


@attrs.define
class Emulator:
    """The state of one devices cgroup: a default policy plus exceptions to it."""

    default_allow: bool = False
    """True for a deny list ("allow all but ..."), False for an allow list."""
    rules: dict[_Meta, frozenset[str]] = attrs.field(factory=dict)

    @property
    def is_blacklist(self) -> bool:
        """Whether everything not listed is allowed."""
        return self.default_allow

    @classmethod
    def from_list(cls, text: str) -> Emulator:
        """Reconstruct the state from the content of ``devices.list``.

        ``devices.list`` only ever shows what is allowed, so a deny-list cgroup (shown as
        ``a *:* rwm``) cannot be reconstructed beyond its mode; :meth:`transition` copes.
        """
        emulator = cls()
        for line in text.splitlines():
            if not line:
                continue
            match = _LIST_LINE.match(line)
            if match is None:
                raise CgroupError(f"cannot parse devices.list line {line!r}")
            node, major, minor, perms = match.groups()
            if node == "a":
                emulator._reset(default_allow=True)
                continue
            meta = _Meta(
                major=WILDCARD if major == "*" else int(major),
                minor=WILDCARD if minor == "*" else int(minor),
                node=node,
            )
            emulator._allow(meta, _perms(perms))
        return emulator

    @classmethod
    def from_rules(cls, rules: Iterable[DeviceRule]) -> Emulator:
        """Build the wanted state from config device rules, starting from "deny all"."""
        emulator = cls()
        for rule in rules:
            emulator.apply(rule)
        return emulator

    def apply(self, rule: DeviceRule) -> None:
        """Apply one config ``DeviceRule`` (type, major, minor, permissions, allow)."""
        node = device_type_char(rule.type)
        if node not in ("a", "b", "c"):
            raise CgroupError(
                f"cannot apply device rule of type {node!r} to a cgroup: "
                "only 'a', 'b' and 'c' rules exist in the devices controller"
            )
        perms = _perms(str(rule.permissions))
        if node == "a":
            self._reset(default_allow=bool(rule.allow))
            return
        meta = _Meta(major=int(rule.major), minor=int(rule.minor), node=node)
        if rule.allow:
            self._allow(meta, perms)
        else:
            self._deny(meta, perms)

    def _reset(self, *, default_allow: bool) -> None:
        self.default_allow = default_allow
        self.rules = {}

    def _allow(self, meta: _Meta, perms: frozenset[str]) -> None:
        if self.default_allow:
            self._remove(meta, perms, "remove 'deny' exception")
        else:
            self._add(meta, perms)

    def _deny(self, meta: _Meta, perms: frozenset[str]) -> None:
        if self.default_allow:
            self._add(meta, perms)
        else:
            self._remove(meta, perms, "remove 'allow' exception")

    def _add(self, meta: _Meta, perms: frozenset[str]) -> None:
        merged = self.rules.get(meta, frozenset()) | perms
        if merged:
            self.rules[meta] = merged

    def _remove(self, meta: _Meta, perms: frozenset[str], what: str) -> None:
        # cgroup v1 silently ignores removing part of a wildcard exception; refuse instead,
        # rather than let a user believe a device is denied when it is not.
        for partial in (
            _Meta(major=WILDCARD, minor=meta.minor, node=meta.node),
            _Meta(major=meta.major, minor=WILDCARD, node=meta.node),
            _Meta(major=WILDCARD, minor=WILDCARD, node=meta.node),
        ):
            if partial == meta:
                continue
            overlap = self.rules.get(partial, frozenset()) & perms
            if overlap:
                raise CgroupError(
                    f"{what}: device rule {_describe(meta, perms)} is not supported by the "
                    "v1 devices controller (cannot punch a hole in the wildcard rule "
                    f"{_describe(partial, self.rules[partial])})"
                )
        left = self.rules.get(meta, frozenset()) - perms
        if left:
            self.rules[meta] = left
        else:
            self.rules.pop(meta, None)

    def transition(self, target: Emulator) -> list[Rule]:
        """The writes that turn this cgroup state into ``target``, in a stable order."""
        out: list[Rule] = []
        old_rules = self.rules
        # A deny-list source hides its exceptions, so it always needs the disruptive reset.
        if self.is_blacklist or self.default_allow != target.default_allow:
            out.append(Rule("a", WILDCARD, WILDCARD, "rwm", allow=target.default_allow))
            old_rules = {}
        for meta in sorted(old_rules):
            dropped = old_rules[meta] - target.rules.get(meta, frozenset())
            if dropped:
                out.append(_rule(meta, dropped, allow=target.default_allow))
        for meta in sorted(target.rules):
            gained = target.rules[meta] - old_rules.get(meta, frozenset())
            if gained:
                out.append(_rule(meta, gained, allow=not target.default_allow))
        return out


def _rule(meta: _Meta, perms: frozenset[str], *, allow: bool) -> Rule:
    return Rule(meta.node, meta.major, meta.minor, _perm_string(perms), allow)


def _describe(meta: _Meta, perms: frozenset[str]) -> str:
    return _rule(meta, perms, allow=True).cgroup_string()
