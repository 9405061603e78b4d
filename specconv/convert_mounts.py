"""Spec mounts to libcontainer mounts: runc 1.1's ``parseMountOptions`` and friends."""

from __future__ import annotations

import posixpath

import attrs

from libcontainer.configs import Mount, MountAttr
from libcontainer.errors import ConfigError
from specconv import spec
from specconv._paths import join
from specconv.tables import (
    EXTENSION_FLAGS,
    MOUNT_ATTR__ATIME,
    MOUNT_FLAGS,
    MOUNT_PROPAGATION,
    MS_BIND,
    REC_ATTR_FLAGS,
)

__all__ = ["ParsedOptions", "create_mount", "parse_mount_options"]


@attrs.frozen
class ParsedOptions:
    """The fstab-style options of a mount, sorted into what runc does with each."""

    flags: int = 0
    propagation_flags: tuple[int, ...] = ()
    data: str = ""
    rec_attr_set: int = 0
    rec_attr_clr: int = 0
    extensions: int = 0

    @property
    def rec_attr(self) -> MountAttr | None:
        """The ``mount_setattr(2)`` attributes, or ``None`` if no ``r*`` option was given."""
        if not (self.rec_attr_set or self.rec_attr_clr):
            return None
        return MountAttr(attr_set=self.rec_attr_set, attr_clr=self.rec_attr_clr)


def parse_mount_options(options: tuple[str, ...] | list[str]) -> ParsedOptions:
    """Split mount options into flags, propagation, recursive attributes and data.

    Options runc does not know, and ``defaults`` (whose flag is 0), are filesystem data,
    joined with ``,``: an unknown option is not an error here, the kernel judges it.
    """
    flags = 0
    propagation: list[int] = []
    data: list[str] = []
    rec_set = rec_clr = 0
    extensions = 0
    for option in options:
        flag_op = MOUNT_FLAGS.get(option)
        ext_op = EXTENSION_FLAGS.get(option)
        if flag_op is not None and flag_op.flag:
            flags = flags & ~flag_op.flag if flag_op.clear else flags | flag_op.flag
        elif MOUNT_PROPAGATION.get(option):
            propagation.append(MOUNT_PROPAGATION[option])
        elif option in REC_ATTR_FLAGS:
            rec = REC_ATTR_FLAGS[option]
            if rec.clear:
                rec_clr |= rec.flag
            else:
                rec_set |= rec.flag
                if rec.flag & MOUNT_ATTR__ATIME == rec.flag:
                    # mount_setattr(2): an access-time mode in attr_set needs
                    # MOUNT_ATTR__ATIME in attr_clr as well.
                    rec_clr |= MOUNT_ATTR__ATIME
        elif ext_op is not None and ext_op.flag:
            extensions = extensions & ~ext_op.flag if ext_op.clear else extensions | ext_op.flag
        else:
            data.append(option)
    return ParsedOptions(
        flags=flags,
        propagation_flags=tuple(propagation),
        data=",".join(data),
        rec_attr_set=rec_set,
        rec_attr_clr=rec_clr,
        extensions=extensions,
    )


def create_mount(bundle: str, mount: spec.Mount, field: str) -> Mount:
    """Convert one spec mount; ``field`` is its JSON path for error messages.

    A bind mount's type is meaningless and becomes ``"bind"`` (rootfs code relies on it), and
    a relative bind source is taken relative to the bundle.
    """
    if not posixpath.isabs(mount.destination):
        raise ConfigError(
            "mount destination must be an absolute path",
            field=f"{field}.destination",
            value=mount.destination,
        )
    for name in ("destination", "source", "type"):
        if "\0" in getattr(mount, name):
            raise ConfigError(
                "mount field contains a NUL byte",
                field=f"{field}.{name}",
                value=getattr(mount, name),
            )
    parsed = parse_mount_options(mount.options)
    source, device = mount.source, mount.type
    if parsed.flags & MS_BIND:
        device = "bind"
        if not posixpath.isabs(source):
            source = join(bundle, source)
    return Mount(
        source=source,
        destination=mount.destination,
        device=device,
        flags=parsed.flags,
        propagation_flags=parsed.propagation_flags,
        data=parsed.data,
        rec_attr=parsed.rec_attr,
        extensions=parsed.extensions,
    )
