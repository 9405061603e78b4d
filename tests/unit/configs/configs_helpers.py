"""Helpers for the validation tests: namespace sets and failure assertions."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from libcontainer.configs import Config, HostFeatures, IDMap, Namespace, NamespaceType, validate
from libcontainer.errors import ConfigError

NS = NamespaceType
HOST = HostFeatures()
ALL_NS = tuple(Namespace(t) for t in (NS.NEWNS, NS.NEWUTS, NS.NEWIPC, NS.NEWPID, NS.NEWNET))


def _fails(config: Config, field: str, host: HostFeatures = HOST) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        validate(config, host=host)
    assert info.value.field == field, str(info.value)
    return info.value


def _with_ns(config: Config, *namespaces: Namespace) -> Config:
    return attrs.evolve(config, namespaces=namespaces)


def _userns(config: Config, **kw: Any) -> Config:
    maps = (IDMap(0, 100000, 65536),)
    c = attrs.evolve(config, namespaces=(*ALL_NS, Namespace(NS.NEWUSER)))
    return attrs.evolve(c, **{"uid_mappings": maps, "gid_mappings": maps, **kw})
