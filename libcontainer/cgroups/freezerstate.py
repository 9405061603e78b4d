"""The freezer state of a cgroup (runc's ``configs.FreezerState``).

The lifecycle core pauses and resumes containers with the plain values (:data:`FROZEN`,
:data:`THAWED`, :data:`UNDEFINED`); :class:`FreezerState`, the enum the config models use
(:mod:`libcontainer.configs` re-exports it), is made on first use, so that the command
line's light verbs never import :mod:`enum`. Its members are those strings.
"""

from __future__ import annotations

TYPE_CHECKING = False

__all__ = ["FROZEN", "THAWED", "UNDEFINED", "FreezerState"]

#: The values of a freezer state, as runc spells them.
FROZEN = "FROZEN"
THAWED = "THAWED"
UNDEFINED = ""

if TYPE_CHECKING:
    import enum

    class FreezerState(enum.StrEnum):
        """The freezer state of a cgroup (``""`` means "leave it alone")."""

        UNDEFINED = ""
        THAWED = "THAWED"
        FROZEN = "FROZEN"

else:

    def __getattr__(name: str) -> object:
        if name != "FreezerState":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from libcontainer.lazyenum import str_enum

        members = {"UNDEFINED": UNDEFINED, "THAWED": THAWED, "FROZEN": FROZEN}
        return str_enum(globals(), name, 'The freezer state ("" means "leave it alone").', members)
