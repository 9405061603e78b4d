"""What the host's cgroup filesystems look like: mounts, mode, and our own cgroups.

runc reads this from ``statfs(2)`` and ``/proc/self/mountinfo`` behind process-wide caches.
Here it is one immutable value, :class:`HostCgroups`, built once by :meth:`HostCgroups.load`
(or from text by :meth:`HostCgroups.from_text`, which is how unit tests point a driver at a
fake cgroupfs tree in a temporary directory).
"""

from __future__ import annotations

import posixpath

from libcontainer.cgroups import utils
from libcontainer.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_ROOT",
    "CgroupMode",
    "CgroupMount",
    "HostCgroups",
    "parse_mountinfo",
    "parse_proc_cgroup",
]

DEFAULT_ROOT = "/sys/fs/cgroup"


class CgroupMode:
    """How the host mounts cgroups (runc's ``IsCgroup2UnifiedMode`` / ``IsCgroup2HybridMode``).

    Three constants, compared with ``is`` (a plain class rather than an enum: the lifecycle
    core reads the host's mounts, and :mod:`enum` costs more than all of that).
    """

    LEGACY = "legacy"
    """Only v1 hierarchies."""
    HYBRID = "hybrid"
    """v1 hierarchies plus a cgroup2 mount at ``<root>/unified`` (no controllers used there)."""
    UNIFIED = "unified"
    """cgroup2 mounted at the root itself: the pure v2 world."""


class _Value:
    """A small immutable value with equality and a repr (plain, not attrs: the lifecycle core
    reads the host's cgroup mounts and must stay cheap to import)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **fields: object) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, fields[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Value)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(tuple(repr(f) for f in self._fields()))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({args})"


class CgroupMount(_Value):
    """One cgroup filesystem mount from mountinfo.

    ``mountpoint``: where it is mounted, e.g. ``/sys/fs/cgroup/memory``. ``root``: the cgroup
    of the hierarchy that is the mount's root (``/`` unless bind-mounted). ``fstype``:
    ``cgroup`` (v1) or ``cgroup2``. ``options``: super-block options; for v1 these name the
    controllers (``cpu``, ``name=systemd``).
    """

    __slots__ = ("mountpoint", "root", "fstype", "options")  # noqa: RUF023 (repr order)
    mountpoint: str
    root: str
    fstype: str
    options: tuple[str, ...]

    def __init__(self, *, mountpoint: str, root: str, fstype: str, options: tuple[str, ...]):
        super().__init__(mountpoint=mountpoint, root=root, fstype=fstype, options=options)

    def has_subsystem(self, subsystem: str) -> bool:
        """Whether this v1 mount carries ``subsystem`` (``name=systemd`` accepted as is)."""
        return self.fstype == "cgroup" and subsystem in self.options


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        octal = field[i + 1 : i + 4]
        if field[i] == "\\" and len(octal) == 3 and all("0" <= c <= "7" for c in octal):
            out.append(chr(int(octal, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[CgroupMount]:
    """Return the visible cgroup and cgroup2 mounts in a ``/proc/<pid>/mountinfo`` text.

    A mount hidden by a later mount on the same mountpoint (of any type) is left out.
    """
    by_mountpoint: dict[str, CgroupMount | None] = {}
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
            root, mountpoint = _unescape(fields[3]), _unescape(fields[4])
            fstype, super_options = fields[sep + 1], fields[sep + 3]
        except (ValueError, IndexError):
            raise CgroupError(f"malformed mountinfo line: {line!r}") from None
        by_mountpoint.pop(mountpoint, None)
        if fstype in ("cgroup", "cgroup2"):
            by_mountpoint[mountpoint] = CgroupMount(
                mountpoint=mountpoint,
                root=root,
                fstype=fstype,
                options=tuple(super_options.split(",")),
            )
        else:
            by_mountpoint[mountpoint] = None
    return [m for m in by_mountpoint.values() if m is not None]


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """Parse ``/proc/<pid>/cgroup`` into ``{subsystem: cgroup path}``.

    Co-mounted controllers get one key each (``cpu`` and ``cpuacct``); named hierarchies
    keep their prefix (``name=systemd``); the v2 entry has the key ``""``.
    """
    result: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            continue
        parts = line.split(":", 2)
        if len(parts) < 3:
            raise CgroupError(f"invalid cgroup entry {line!r}: must contain at least two colons")
        for subsystem in parts[1].split(","):
            result[subsystem] = parts[2]
    return result


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CgroupError(f"cannot read {path}: {exc.strerror}") from exc


class HostCgroups(_Value):
    """The cgroup layout of a host, as seen by this process.

    ``mounts``: the visible cgroup mounts (a later mount on the same mountpoint hides earlier
    ones). ``own_cgroups``: this process's cgroup per subsystem, from ``/proc/self/cgroup``.
    ``root``: the directory holding the hierarchies (``/sys/fs/cgroup``). ``hugepage_sizes``:
    huge page sizes as the hugetlb controller names them (``2MB``). ``in_userns``: whether we
    run inside a user namespace (devices rules cannot be set there).
    """

    __slots__ = ("mounts", "own_cgroups", "root", "hugepage_sizes", "in_userns")  # noqa: RUF023
    mounts: tuple[CgroupMount, ...]
    own_cgroups: Mapping[str, str]
    root: str
    hugepage_sizes: tuple[str, ...]
    in_userns: bool

    def __init__(
        self,
        mounts: tuple[CgroupMount, ...],
        own_cgroups: Mapping[str, str],
        root: str = DEFAULT_ROOT,
        hugepage_sizes: tuple[str, ...] = (),
        in_userns: bool = False,
    ) -> None:
        super().__init__(
            mounts=tuple(mounts),
            own_cgroups=dict(own_cgroups),
            root=root,
            hugepage_sizes=tuple(hugepage_sizes),
            in_userns=in_userns,
        )

    @classmethod
    def from_text(
        cls,
        mountinfo: str,
        proc_cgroup: str,
        *,
        root: str = DEFAULT_ROOT,
        hugepage_sizes: tuple[str, ...] = (),
        in_userns: bool = False,
    ) -> HostCgroups:
        """Build from the text of a mountinfo and a ``/proc/<pid>/cgroup`` file."""
        return cls(
            mounts=tuple(parse_mountinfo(mountinfo)),
            own_cgroups=parse_proc_cgroup(proc_cgroup),
            root=root.rstrip("/") or "/",
            hugepage_sizes=hugepage_sizes,
            in_userns=in_userns,
        )

    @classmethod
    def load(
        cls,
        *,
        root: str = DEFAULT_ROOT,
        mountinfo_path: str = "/proc/self/mountinfo",
        proc_cgroup_path: str = "/proc/self/cgroup",
        hugepages_dir: str = "/sys/kernel/mm/hugepages",
    ) -> HostCgroups:
        """Read the layout of the running host."""
        return cls.from_text(
            _read_text(mountinfo_path),
            _read_text(proc_cgroup_path),
            root=root,
            hugepage_sizes=utils.hugepage_sizes(hugepages_dir),
            in_userns=utils.running_in_userns(),
        )

    @property
    def mode(self) -> str:
        """Legacy, hybrid or unified, judged by what is mounted at the root."""
        fstypes = {m.mountpoint: m.fstype for m in self.mounts}
        if fstypes.get(self.root) == "cgroup2":
            return CgroupMode.UNIFIED
        if fstypes.get(posixpath.join(self.root, "unified")) == "cgroup2":
            return CgroupMode.HYBRID
        if any(m.fstype == "cgroup" for m in self.mounts):
            return CgroupMode.LEGACY
        raise CgroupError(
            f"no cgroup filesystem is mounted (looked for cgroup and cgroup2 under {self.root})"
        )

    def find_mount(self, subsystem: str) -> CgroupMount | None:
        """The v1 mount carrying ``subsystem``, or None if it is not mounted."""
        for mount in self.mounts:
            if mount.mountpoint.startswith(self.root) and mount.has_subsystem(subsystem):
                return mount
        # Mounts elsewhere (a container's own /sys/fs/cgroup is not always at the default).
        for mount in self.mounts:
            if mount.has_subsystem(subsystem):
                return mount
        return None

    def unified_mount(self) -> CgroupMount | None:
        """The cgroup2 mount: at the root on a unified host, ``<root>/unified`` on a hybrid one.

        None on a legacy host. The v2 driver and device eBPF programs work below it.
        """
        for mountpoint in (self.root, posixpath.join(self.root, "unified")):
            for mount in self.mounts:
                if mount.mountpoint == mountpoint and mount.fstype == "cgroup2":
                    return mount
        return None

    def own_cgroup(self, subsystem: str) -> str | None:
        """This process's cgroup for ``subsystem`` (``systemd`` finds ``name=systemd``)."""
        if subsystem in self.own_cgroups:
            return self.own_cgroups[subsystem]
        return self.own_cgroups.get("name=" + subsystem)
