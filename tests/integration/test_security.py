"""Process security fields, verified from inside real containers (issue 6).

Capability sets are read from ``/proc/self/status`` of the user's program, after execve:
that is what the kernel actually gave it, not what we asked for.
"""

from __future__ import annotations

import subprocess
import textwrap
from typing import Any

import pytest
from ctutil import Factories, run_output

from libcontainer import Process, apparmor, selinux
from libcontainer.capabilities import to_mask
from libcontainer.configs import Capabilities
from libcontainer.errors import ConfigError

pytestmark = pytest.mark.root

CAP_KEYS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
STATUS = "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Uid):' /proc/self/status"


def status_fields(out: str) -> dict[str, str]:
    """``Key:\\tvalue`` lines of /proc/self/status as a dict."""
    return {k: v.strip() for k, v in (ln.split(":\t", 1) for ln in out.splitlines() if ":\t" in ln)}


def caps_of(out: str) -> dict[str, int]:
    """The five capability sets from /proc/self/status output, as masks."""
    fields = status_fields(out)
    return {k: int(fields[k], 16) for k in CAP_KEYS}


def set_caps(spec: dict[str, Any], names: list[str], *, inheritable: bool = True) -> None:
    """Give all five sets (Inheritable only if asked) the same ``names``."""
    sets = ("bounding", "effective", "permitted", "ambient") + (
        ("inheritable",) if inheritable else ()
    )
    spec["process"]["capabilities"] = {s: list(names) for s in sets}


DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def test_runc_default_caps_every_set(containers: Factories, make_config: Any) -> None:
    """runc's default spec: no Inheritable, so the Ambient it lists cannot be raised."""
    c = containers.create(make_config())
    out, code = run_output(c, ["sh", "-c", STATUS])
    assert code == 0, out
    mask = to_mask(DEFAULT_CAPS)
    assert caps_of(out) == {
        "CapInh": 0,
        "CapPrm": mask,
        "CapEff": mask,
        "CapBnd": mask,
        "CapAmb": 0,
    }
    assert status_fields(out)["NoNewPrivs"] == "1"


def test_inheritable_and_ambient_raise_ambient(containers: Factories, make_config: Any) -> None:
    names = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
    c = containers.create(make_config(lambda s: set_caps(s, names)))
    out, code = run_output(c, ["sh", "-c", STATUS])
    assert code == 0, out
    mask = to_mask(names)
    assert caps_of(out) == dict.fromkeys(CAP_KEYS, mask)


def test_non_root_user_gets_caps_through_ambient(containers: Factories, make_config: Any) -> None:
    """uid 1000 keeps caps across execve only through the ambient set."""
    names = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]

    def edit(spec: dict[str, Any]) -> None:
        set_caps(spec, names)
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}

    c = containers.create(make_config(edit))
    out, code = run_output(c, ["sh", "-c", STATUS])
    assert code == 0, out
    assert status_fields(out)["Uid"].split()[0] == "1000"
    assert caps_of(out) == dict.fromkeys(CAP_KEYS, to_mask(names))


def test_non_root_user_without_ambient_has_no_caps(containers: Factories, make_config: Any) -> None:
    def edit(spec: dict[str, Any]) -> None:
        set_caps(spec, ["CAP_KILL"], inheritable=False)
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}

    c = containers.create(make_config(edit))
    out, code = run_output(c, ["sh", "-c", STATUS])
    assert code == 0, out
    assert caps_of(out) == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 1 << 5, "CapAmb": 0}


def test_exec_gets_its_own_capabilities(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    init = Process(["sleep", "1000"])
    c.run(init)
    caps = Capabilities(
        bounding=("CAP_KILL",), effective=("CAP_KILL",), permitted=("CAP_KILL",),
        inheritable=("CAP_KILL",), ambient=("CAP_KILL",),
    )  # fmt: skip
    ex = Process(["sh", "-c", STATUS], init=False, capabilities=caps, stdout=subprocess.PIPE)
    c.start(ex)
    assert ex.stdout is not None
    out = ex.stdout.read().decode()
    assert ex.wait() == 0, out
    assert caps_of(out) == dict.fromkeys(CAP_KEYS, 1 << 5)


def test_unknown_capability_in_spec_is_a_config_error(make_config: Any) -> None:
    with pytest.raises(ConfigError, match="CAP_FLY"):
        make_config(lambda s: set_caps(s, ["CAP_KILL", "CAP_FLY"]))


def test_unknown_capability_at_start_is_a_config_error(
    containers: Factories, make_config: Any
) -> None:
    """A Process built by hand with a bad name: refused before anything is cloned."""
    c = containers.create(make_config())
    bad = Capabilities(bounding=("CAP_KILL",), effective=("CAP_TELEPORT",))
    with pytest.raises(ConfigError, match=r"capabilities\.Effective.*CAP_TELEPORT"):
        c.run(Process(["true"], capabilities=bad))
    # The container is still usable afterwards.
    out, code = run_output(c, ["echo", "ok"])
    assert (out, code) == ("ok\n", 0)


def test_no_new_privileges_false(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config(lambda s: s["process"].update(noNewPrivileges=False)))
    out, code = run_output(c, ["sh", "-c", STATUS])
    assert code == 0, out
    assert status_fields(out)["NoNewPrivs"] == "0"


def test_umask_rlimits_oom_score_adj(containers: Factories, make_config: Any) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["user"]["umask"] = 0o027
        spec["process"]["oomScoreAdj"] = 123
        spec["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 512},
            {"type": "RLIMIT_CORE", "hard": 4096, "soft": 1024},
            {"type": "RLIMIT_NPROC", "hard": 300, "soft": 200},
        ]

    c = containers.create(make_config(edit))
    script = textwrap.dedent(
        """
        echo umask=$(umask)
        echo oom=$(cat /proc/self/oom_score_adj)
        echo nofile=$(ulimit -n) nofile_hard=$(ulimit -H -n)
        echo core=$(ulimit -c) nproc=$(ulimit -u)
        touch /tmp/f && echo mode=$(stat -c %a /tmp/f)
        """
    )
    out, code = run_output(c, ["sh", "-c", script])
    assert code == 0, out
    values = dict(kv.split("=", 1) for kv in out.split())
    assert values["umask"] == "0027"
    assert values["oom"] == "123"
    assert values["nofile"] == "512" and values["nofile_hard"] == "2048"
    assert values["core"] == "2"  # ulimit -c counts 512-byte blocks
    assert values["nproc"] == "200"
    assert values["mode"] == "640"


def test_default_umask_is_0022(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    out, code = run_output(c, ["sh", "-c", "umask"])
    assert (out.strip(), code) == ("0022", 0)


def test_exec_gets_oom_score_adj_and_rlimits(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config(lambda s: s["process"].update(oomScoreAdj=77)))
    init = Process(["sleep", "1000"])
    c.run(init)
    from libcontainer.configs import Rlimit

    ex = Process(
        ["sh", "-c", "cat /proc/self/oom_score_adj; ulimit -n"],
        init=False,
        rlimits=[Rlimit(type=7, hard=99, soft=42)],  # RLIMIT_NOFILE
        stdout=subprocess.PIPE,
    )
    c.start(ex)
    assert ex.stdout is not None
    out = ex.stdout.read().decode().split()
    assert ex.wait() == 0
    assert out == ["77", "42"]


def _keys_visible(containers: Factories, make_config: Any, **kwargs: Any) -> tuple[str, str]:
    """/proc/keys as the container sees it (masking lifted), and the container id."""
    c = containers.create(make_config(lambda s: s["linux"].update(maskedPaths=[]), **kwargs))
    out, code = run_output(c, ["cat", "/proc/keys"])
    assert code == 0, out
    return out, c.id


def test_new_session_keyring_named_like_runcs(containers: Factories, make_config: Any) -> None:
    out, cid = _keys_visible(containers, make_config)
    assert f"_ses.{cid}" in out, out


def test_no_new_keyring_keeps_the_callers(containers: Factories, make_config: Any) -> None:
    out, cid = _keys_visible(containers, make_config, no_new_keyring=True)
    assert f"_ses.{cid}" not in out


def test_apparmor_profile_ignored_on_a_host_without_apparmor(
    containers: Factories, make_config: Any
) -> None:
    if apparmor.host_enabled():
        pytest.skip("AppArmor is enabled here: the profile would really be applied")
    c = containers.create(make_config(lambda s: s["process"].update(apparmorProfile="nope")))
    out, code = run_output(c, ["echo", "ran"])
    assert (out, code) == ("ran\n", 0)


def test_selinux_label_refused_on_a_host_without_selinux(
    containers: Factories, make_config: Any
) -> None:
    """runc 1.1 refuses a process label SELinux cannot enforce (clear error, no container)."""
    if selinux.host_enabled():
        pytest.skip("SELinux is enabled here: the label would really be applied")
    label = "system_u:system_r:container_t:s0"
    config = make_config(lambda s: s["process"].update(selinuxLabel=label))
    with pytest.raises(ConfigError, match=r"(?i)selinux is disabled or not supported"):
        containers.create(config)
    # An exec asking for a label is refused too, before anything is cloned.
    c = containers.create(make_config())
    c.run(Process(["sleep", "1000"]))
    with pytest.raises(ConfigError, match=r"(?i)selinux is disabled or not supported"):
        c.start(Process(["true"], init=False, label=label))


def test_selinux_mount_label_ignored_on_a_host_without_selinux(
    containers: Factories, make_config: Any
) -> None:
    if selinux.host_enabled():
        pytest.skip("SELinux is enabled here")
    c = containers.create(
        make_config(lambda s: s["linux"].update(mountLabel="system_u:object_r:container_file_t:s0"))
    )
    out, code = run_output(c, ["sh", "-c", "ls /proc/acpi | wc -l"])
    assert (out.strip(), code) == ("0", 0)
