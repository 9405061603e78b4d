"""Validation of a :class:`~libcontainer.configs.Config` (runc's ``configs/validate``)."""

from __future__ import annotations

from typing import Any

__all__ = ["HostFeatures", "validate"]


class HostFeatures:
    """What the host supports (placeholder until the validator lands)."""


def validate(config: Any, *, host: HostFeatures | None = None) -> None:
    """Validate ``config`` (not implemented yet)."""
    raise NotImplementedError("configs.validate is being written")
