"""An OCI spec to a libcontainer config: runc 1.1's ``CreateLibcontainerConfig``.

The mapping follows runc 1.1.5 field for field (see :func:`create_config`); the differences
are checks made here, at the boundary, that runc makes later or not at all: relative mount
destinations, unknown capability and rlimit names are errors.
"""

from __future__ import annotations

import os
import posixpath

import attrs

from libcontainer.configs import (
    Capabilities,
    Command,
    Config,
    Device,
    Hooks,
    IDMap,
    IntelRdt,
    Namespace,
    NamespaceType,
    Network,
)
from libcontainer.errors import ConfigError
from specconv import spec as s
from specconv._checks import check_capabilities, rlimit_numbers
from specconv._example import SPEC_VERSION
from specconv._paths import clean, join
from specconv.convert_cgroups import create_cgroup_config, create_devices
from specconv.convert_mounts import create_mount
from specconv.convert_seccomp import setup_seccomp
from specconv.tables import MOUNT_PROPAGATION, MS_PRIVATE, MS_RDONLY, NAMESPACES

__all__ = ["create_config"]


def _namespaces(linux: s.Linux) -> tuple[Namespace, ...]:
    result: list[Namespace] = []
    for index, ns in enumerate(linux.namespaces):
        member = NAMESPACES.get(ns.type)
        field = f"linux.namespaces[{index}].type"
        if member is None:
            raise ConfigError(
                "unknown namespace type (expected one of " + ", ".join(sorted(NAMESPACES)) + ")",
                field=field,
                value=ns.type,
            )
        ns_type = NamespaceType[member]
        if any(n.type is ns_type for n in result):
            raise ConfigError("namespace listed twice", field=field, value=ns.type)
        result.append(Namespace(type=ns_type, path=ns.path))
    return tuple(result)


def _id_maps(mappings: tuple[s.LinuxIDMapping, ...]) -> tuple[IDMap, ...]:
    return tuple(
        IDMap(container_id=m.container_id, host_id=m.host_id, size=m.size) for m in mappings
    )


def _host_root(config: Config) -> tuple[int, int]:
    try:
        return config.host_uid(0), config.host_gid(0)
    except ConfigError as exc:
        field = {"uid_mappings": "linux.uidMappings", "gid_mappings": "linux.gidMappings"}
        raise ConfigError(
            f"{exc.message} (a user namespace needs a mapping for container root)",
            field=field.get(exc.field or "", exc.field),
        ) from None


def _command(hook: s.Hook) -> Command:
    timeout = None if hook.timeout is None else float(hook.timeout)
    return Command(path=hook.path, args=hook.args, env=hook.env, timeout=timeout)


def _hooks(hooks: s.Hooks | None) -> Hooks:
    if hooks is None:
        return Hooks()
    return Hooks(
        **{
            a.name: tuple(_command(h) for h in getattr(hooks, a.name))
            for a in attrs.fields(s.Hooks)
        }
    )


def _root_propagation(linux: s.Linux, no_pivot_root: bool) -> int:
    if not linux.rootfs_propagation:
        return 0
    propagation = MOUNT_PROPAGATION.get(linux.rootfs_propagation)
    if propagation is None:
        raise ConfigError(
            "rootfsPropagation not supported (expected one of "
            + ", ".join(sorted(MOUNT_PROPAGATION))
            + ")",
            field="linux.rootfsPropagation",
            value=linux.rootfs_propagation,
        )
    if no_pivot_root and propagation & MS_PRIVATE:
        raise ConfigError(
            "rootfsPropagation [r]private is not safe without pivot_root",
            field="linux.rootfsPropagation",
            value=linux.rootfs_propagation,
        )
    return propagation


def _owner_uid(config: Config, spec: s.Spec) -> int | None:
    # With its own cgroup namespace and a writable cgroupfs, the container's cgroup is
    # chowned to the host uid of the process user so that it can manage it.
    if not config.is_private(NamespaceType.NEWCGROUP):
        return None
    writable = any(
        m.source == "cgroup"
        and clean(m.destination) == "/sys/fs/cgroup"
        and not m.flags & MS_RDONLY
        for m in config.mounts
    )
    if not writable:
        return None
    uid = spec.process.user.uid if spec.process is not None else 0
    try:
        return config.host_uid(uid)
    except ConfigError:
        return None  # no mapping: validation reports it


def create_config(
    spec: s.Spec,
    *,
    bundle: str | os.PathLike[str],
    cgroup_name: str = "",
    use_systemd_cgroup: bool = False,
    no_pivot_root: bool = False,
    no_new_keyring: bool = False,
    rootless_euid: bool | None = None,
    rootless_cgroups: bool | None = None,
) -> Config:
    """Build the libcontainer :class:`~libcontainer.configs.Config` for ``spec``.

    ``bundle`` is the bundle directory (runc's working directory): a relative ``root.path``
    and relative bind mount sources resolve against it, and the config is labelled
    ``bundle=<bundle>``. ``cgroup_name`` names the cgroup when the spec has no
    ``cgroupsPath`` (runc passes the container id). The other flags are runc's
    ``CreateOpts``; ``rootless_euid`` and ``rootless_cgroups`` default to what runc's
    command line passes: whether this process runs as a user other than root. The result is
    not validated yet: pass it to :func:`libcontainer.configs.validate`.

    Raises :class:`~libcontainer.errors.ConfigError` (with the JSON path of the culprit)
    for a missing root, a relative mount destination, unknown namespace, device, seccomp,
    capability or rlimit names, a bad ``rootfsPropagation``, a user namespace without a
    root mapping, or a systemd ``cgroupsPath`` that is not ``slice:prefix:name``.
    """
    if rootless_euid is None:
        rootless_euid = os.geteuid() != 0
    if rootless_cgroups is None:
        rootless_cgroups = os.geteuid() != 0
    cwd = os.path.realpath(os.fspath(bundle))
    if spec.root is None:
        raise ConfigError("root must be specified", field="root")
    rootfs = spec.root.path
    if not posixpath.isabs(rootfs):
        rootfs = join(cwd, rootfs)
    labels = (*(f"{k}={v}" for k, v in spec.annotations.items()), f"bundle={cwd}")
    mounts = tuple(create_mount(cwd, m, f"mounts[{i}]") for i, m in enumerate(spec.mounts))
    devices, default_rules = create_devices(spec)
    cgroups = create_cgroup_config(
        spec,
        default_rules,
        name=cgroup_name,
        use_systemd=use_systemd_cgroup,
        rootless=rootless_cgroups,
    )
    config = Config(
        rootfs=rootfs,
        no_pivot_root=no_pivot_root,
        readonlyfs=spec.root.readonly,
        hostname=spec.hostname,
        labels=labels,
        no_new_keyring=no_new_keyring,
        rootless_euid=rootless_euid,
        rootless_cgroups=rootless_cgroups,
        mounts=mounts,
        devices=tuple(devices),
        cgroups=cgroups,
        hooks=_hooks(spec.hooks),
        version=SPEC_VERSION,
    )
    if spec.linux is not None:
        config = _apply_linux(config, spec.linux, no_pivot_root)
    owner = _owner_uid(config, spec)
    if owner is not None and config.cgroups is not None:
        config = attrs.evolve(config, cgroups=attrs.evolve(config.cgroups, owner_uid=owner))
    if spec.process is not None:
        config = _apply_process(config, spec.process)
    return config


def _apply_linux(config: Config, linux: s.Linux, no_pivot_root: bool) -> Config:
    namespaces = _namespaces(linux)
    config = attrs.evolve(
        config,
        root_propagation=_root_propagation(linux, no_pivot_root),
        namespaces=namespaces,
        mask_paths=linux.masked_paths,
        readonly_paths=linux.readonly_paths,
        mount_label=linux.mount_label,
        sysctl=dict(linux.sysctl),
    )
    if config.is_private(NamespaceType.NEWNET):
        config = attrs.evolve(config, networks=(Network(type="loopback"),))
    if config.has_namespace(NamespaceType.NEWUSER):
        config = attrs.evolve(
            config,
            uid_mappings=_id_maps(linux.uid_mappings),
            gid_mappings=_id_maps(linux.gid_mappings),
        )
        uid, gid = _host_root(config)
        devices: tuple[Device, ...] = tuple(
            attrs.evolve(d, uid=uid, gid=gid) for d in config.devices
        )
        config = attrs.evolve(config, devices=devices)
    if linux.seccomp is not None:
        config = attrs.evolve(config, seccomp=setup_seccomp(linux.seccomp))
    if (rdt := linux.intel_rdt) is not None:
        intel_rdt = IntelRdt(
            clos_id=rdt.clos_id,
            l3_cache_schema=rdt.l3_cache_schema,
            mem_bw_schema=rdt.mem_bw_schema,
        )
        config = attrs.evolve(config, intel_rdt=intel_rdt)
    return config


def _apply_process(config: Config, process: s.Process) -> Config:
    check_capabilities(process.capabilities)
    rlimit_numbers(process.rlimits)  # runc keeps rlimits on the process; only check names
    caps = process.capabilities
    capabilities = None
    if caps is not None:
        capabilities = Capabilities(
            bounding=caps.bounding,
            effective=caps.effective,
            inheritable=caps.inheritable,
            permitted=caps.permitted,
            ambient=caps.ambient,
        )
    return attrs.evolve(
        config,
        oom_score_adj=process.oom_score_adj,
        no_new_privileges=process.no_new_privileges,
        umask=process.user.umask,
        process_label=process.selinux_label,
        capabilities=capabilities,
    )
