"""What the lifecycle core knows of a container: its ``state.json``, checked once when read.

:class:`StateRecord` holds the fields the verbs act on (init pid and start time, cgroup and
namespace paths, hooks, labels), read from the JSON runc's format defines without the
config models (this module imports only :mod:`json`). Every field is type-checked here, so
a corrupt or hand-edited file gives one :class:`~libcontainer.errors.StateFileError` that
names the file and the field, never a ``KeyError`` or ``'str' object has no attribute``
from deep inside a verb. Values are *checked*, not *trusted*: paths and pids still have to
be proven the container's own before anything acts on them (see
:mod:`libcontainer.cgroups.owned` and :mod:`libcontainer.lifecycle.proof`).
"""

from __future__ import annotations

from libcontainer.errors import StateFileError
from libcontainer.jsontext import loads
from libcontainer.ocistate import OCI_VERSION, bundle_and_annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["HookCommand", "StateRecord"]

#: Go's zero ``time.Time``, what runc writes for a container that never started.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
#: Linux pids never exceed 2**22 (PID_MAX_LIMIT); start times are 64-bit clock ticks.
_MAX_PID = 1 << 22
_MAX_START = (1 << 64) - 1


class _Fields:
    """Typed access to one JSON object, with errors naming ``where`` (``config.cgroups``)."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        self.where = where
        self.source = source
        if not isinstance(data, dict):
            self.fail(f"must be a JSON object, not {_json_type(data)}")
        self.data: dict[str, Any] = data

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        field = f"{self.where}.{key}" if key and self.where else (key or self.where)
        where = f"{field}: " if field else ""
        raise StateFileError(f"{self.source}: {where}{message}")

    def string(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(f"must be a string, not {_json_type(value)}", key)
        return value

    def boolean(self, key: str) -> bool:
        value = self.data.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"must be true or false, not {_json_type(value)}", key)
        return value

    def integer(self, key: str, maximum: int) -> int:
        value = self.data.get(key, 0)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"must be an integer, not {_json_type(value)}", key)
        if not 0 <= value <= maximum:
            self.fail(f"must be between 0 and {maximum}", key)
        return value

    def str_map(self, key: str) -> dict[str, str]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"must be a JSON object, not {_json_type(value)}", key)
        for k, v in value.items():
            if not isinstance(v, str):
                self.fail(f"must map names to strings ({k!r} is {_json_type(v)})", key)
        return dict(value)

    def str_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.fail("must be a list of strings", key)
        return list(value)

    def objects(self, key: str) -> list[_Fields]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"must be a list, not {_json_type(value)}", key)
        prefix = f"{self.where}.{key}" if self.where else key
        return [_Fields(item, f"{prefix}[{i}]", self.source) for i, item in enumerate(value)]

    def object(self, key: str) -> _Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        return _Fields(value, f"{self.where}.{key}" if self.where else key, self.source)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class HookCommand:
    """A command hook as ``state.json`` stores it (runc's ``configs.Command``).

    Duck-types :class:`libcontainer.configs.Command` for :mod:`libcontainer.hooks`;
    ``timeout`` is in seconds (runc stores nanoseconds).
    """

    __slots__ = ("args", "dir", "env", "path", "timeout")

    def __init__(
        self,
        path: str,
        args: tuple[str, ...] = (),
        env: tuple[str, ...] = (),
        dir: str = "",
        timeout: float | None = None,
    ) -> None:
        self.path = path
        self.args = args
        self.env = env
        self.dir = dir
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HookCommand({self.path!r}, args={self.args!r})"


def _hook(f: _Fields) -> HookCommand:
    timeout = f.data.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        f.fail("must be an integer number of nanoseconds", "timeout")
    return HookCommand(
        path=f.string("path"),
        args=tuple(f.str_list("args")),
        env=tuple(f.str_list("env")),
        dir=f.string("dir"),
        timeout=None if timeout is None else timeout / 1e9,
    )


class StateRecord:
    """The facts of one ``state.json`` (runc 1.1's ``libcontainer.State``) the core acts on.

    ``pid == 0`` means the container was created but its init never started. ``config`` is
    the raw JSON object, for the few parts the core hands on as they are (e.g. networks).
    """

    __slots__ = (
        "annotations",
        "bundle",
        "cgroup_name",
        "cgroup_parent",
        "cgroup_path",
        "cgroup_paths",
        "config",
        "created",
        "hooks",
        "id",
        "namespace_paths",
        "namespaces",
        "pid",
        "rootfs",
        "rootless",
        "scope_prefix",
        "source",
        "start",
        "systemd",
        "version",
    )

    id: str
    pid: int
    start: int
    created: str
    rootless: bool
    cgroup_paths: dict[str, str]
    namespace_paths: dict[str, str]
    namespaces: dict[str, str]
    config: dict[str, Any]
    bundle: str
    annotations: dict[str, str]
    version: str
    rootfs: str
    systemd: bool
    cgroup_name: str
    cgroup_parent: str
    cgroup_path: str
    scope_prefix: str
    hooks: dict[str, tuple[HookCommand, ...]]
    source: str

    @classmethod
    def from_json(cls, data: bytes | str, source: str, container_id: str) -> StateRecord:
        """Parse and check ``data`` (the bytes of ``source``, the state of ``container_id``)."""
        try:
            raw = loads(data)
        except ValueError as e:
            raise StateFileError(f"{source}: not valid JSON: {_short(str(e))}") from None
        except RecursionError:
            raise StateFileError(f"{source}: not valid JSON: nested too deeply") from None
        top = _Fields(raw, "", source)
        record = cls.__new__(cls)
        record.source = source
        record.id = top.string("id")
        if record.id != container_id:
            raise StateFileError(
                f"{source} holds the state of {_short(record.id)!r}, not {container_id!r}"
            )
        record.pid = top.integer("init_process_pid", _MAX_PID)
        record.start = top.integer("init_process_start", _MAX_START)
        record.created = top.string("created", GO_ZERO_TIME) or GO_ZERO_TIME
        record.rootless = top.boolean("rootless")
        record.cgroup_paths = top.str_map("cgroup_paths")
        record.namespace_paths = top.str_map("namespace_paths")
        config = top.object("config")
        if config is None:
            top.fail("missing", "config")
        record.config = config.data
        record._read_config(config)
        return record

    def _read_config(self, config: _Fields) -> None:
        self.version = config.string("version")
        self.rootfs = config.string("rootfs")
        self.bundle, self.annotations = bundle_and_annotations(config.str_list("labels"))
        self.namespaces = {}
        for ns in config.objects("namespaces"):
            kind = ns.string("type")
            if not kind:
                ns.fail("missing", "type")
            self.namespaces[kind] = ns.string("path")
        cgroups = config.object("cgroups")
        self.systemd = cgroups.boolean("Systemd") if cgroups else False
        self.cgroup_name = cgroups.string("name") if cgroups else ""
        self.cgroup_parent = cgroups.string("parent") if cgroups else ""
        self.cgroup_path = cgroups.string("path") if cgroups else ""
        self.scope_prefix = cgroups.string("scope_prefix") if cgroups else ""
        hooks = config.object("Hooks")
        self.hooks = {}
        if hooks is not None:
            for kind in hooks.data:
                self.hooks[kind] = tuple(_hook(h) for h in hooks.objects(kind))

    # -- derived facts ----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the container's init was ever started (runc has no unstarted state)."""
        return self.pid != 0

    @property
    def own_pid_namespace(self) -> bool:
        """Whether the container has a PID namespace of its own (killing its init kills all).

        A joined PID namespace (a path) is not its own, as runc judges.
        """
        return self.namespaces.get("NEWPID") == ""

    @property
    def has_veth_networks(self) -> bool:
        """Whether the parent made veth pairs for the container (their host sides go at
        destroy, through :mod:`libcontainer.network`)."""
        networks = self.config.get("networks") or ()
        return any(isinstance(n, dict) and n.get("type") == "veth" for n in networks)

    def hook_list(self, kind: str) -> tuple[HookCommand, ...]:
        """The command hooks of ``kind`` (runc's JSON key: ``poststop``, ``poststart``...)."""
        return self.hooks.get(kind, ())

    def oci_state(self, status: str) -> dict[str, Any]:
        """The OCI state in runc's field order (``runc state``), for ``status``."""
        out: dict[str, Any] = {
            "ociVersion": self.version or OCI_VERSION,
            "id": self.id,
            "pid": self.pid if status != "stopped" else 0,
            "status": status,
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        out["owner"] = ""
        return out


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
