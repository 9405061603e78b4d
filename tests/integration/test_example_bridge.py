"""examples/bridge.py: two containers on a bridge, in a network namespace it makes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from testrun import unique_name

pytestmark = pytest.mark.root
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bridge.py"


def test_bridge_example_pings_both_ways_and_cleans_up() -> None:
    netns = unique_name("exbr")
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--netns", netns],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "inet 10.88.0.2/24" in out.stdout
    assert "default via 10.88.0.1 dev eth0" in out.stdout
    for direction in ("a -> b:", "b -> a:"):
        (line,) = [x for x in lines if x.startswith(direction)]
        assert "2 packets received, 0% packet loss" in line, line
    if os.path.exists("/proc/sys/net/ipv6"):
        (line,) = [x for x in lines if x.startswith("a -> b (IPv6):")]
        assert "0% packet loss" in line, line
    counters = [x for x in lines if " rx " in x and " tx " in x]
    assert len(counters) == 2 and all(x.startswith(netns) for x in counters)
    assert not os.path.exists(f"/run/netns/{netns}")
