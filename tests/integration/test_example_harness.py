"""examples/harness.py runs untrusted snippets as its docstring says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from sbutil import leftovers, placed

pytestmark = pytest.mark.root
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harness.py"


def test_harness_example(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    main = runpy.run_path(str(EXAMPLE))["main"]
    with placed() as place:
        assert main([]) == 0
        assert leftovers(place) == []
        mine = tmp_path / "mine.py"
        mine.write_text("print('from a file')")
        assert main([str(mine)]) == 0
        assert leftovers(place) == []
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["hello"][1:3] == ["exited", "0"] and lines["hello"][-3:] == [
        "hello",
        "from",
        "sandbox",
    ]
    assert lines["infinite-loop"][1:3] == ["timeout", "-9"]
    assert lines["memory-hog"][1] == "oom"
    assert lines["fork-bomb"][1] != "exited" or lines["fork-bomb"][2] != "0"
    assert "unreachable" in " ".join(lines["network"])
    assert "Read-only" in " ".join(lines["write-host"])
    assert "Permission" in " ".join(lines["read-secrets"])
    assert lines["scratch-space"][1:3] == ["exited", "0"] and lines["scratch-space"][-1] == "ok"
    assert lines["mine.py"][1:3] == ["exited", "0"] and lines["mine.py"][-1] == "file"
