"""State, validate_id and StateStore: ids, round trips, atomic saves, races and locks."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import attrs
import pytest

from libcontainer.configs import Config, NamespaceType, Timestamp
from libcontainer.errors import (
    ContainerExistsError,
    ContainerNotExistsError,
    InvalidIdError,
    StateFileError,
)
from libcontainer.state import (
    DEFAULT_ROOT,
    MAX_ID_LENGTH,
    State,
    StateStore,
    validate_id,
)

FIXTURE = Path(os.environ["PYLIBCONTAINER_FIXTURES"]) / "runc-1.1.5-state.json"


def _state(container_id: str = "c1", pid: int = 42) -> State:
    return State(
        id=container_id,
        init_process_pid=pid,
        init_process_start=1234,
        created=Timestamp.parse("2024-01-02T03:04:05.123456789Z"),
        config=Config(rootfs="/rootfs", hostname="h"),
        cgroup_paths={"": "/sys/fs/cgroup/c1"},
        namespace_paths={NamespaceType.NEWPID: f"/proc/{pid}/ns/pid"},
    )


# -- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good", ["a", "c1", "my-container_1.2+3", "A" * MAX_ID_LENGTH, "...", ".a", "a..b"]
)
def test_good_ids(good: str) -> None:
    validate_id(good)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "../../etc",
        "a/b",
        "/abs",
        "a b",
        "a\n",
        "a\0b",
        "é",
        "A" * (MAX_ID_LENGTH + 1),
        "a:b",
        "a*",
    ],
)
def test_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidIdError):
        validate_id(bad)


def test_non_string_id() -> None:
    with pytest.raises(InvalidIdError):
        validate_id(3)


def test_bad_ids_never_touch_the_filesystem(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "root")
    for bad in ("../escape", "..", "a/b"):
        with pytest.raises(InvalidIdError):
            store.create(bad, b"{}")
        with pytest.raises(InvalidIdError):
            store.remove(bad)
        with pytest.raises(InvalidIdError):
            store.load(bad)
    assert sorted(os.listdir(tmp_path)) == ["root"]
    assert os.listdir(tmp_path / "root") == []


# -- State -----------------------------------------------------------------------------------


def test_state_round_trip_python_built() -> None:
    state = _state()
    text = state.to_json()
    again = State.from_json(text)
    assert again == state
    assert again.created.text == "2024-01-02T03:04:05.123456789Z"
    d = json.loads(text)
    assert d["namespace_paths"] == {"NEWPID": "/proc/42/ns/pid"}
    assert "external_descriptors" not in d  # omitempty
    assert set(d) == set(json.loads(FIXTURE.read_text())) - {"external_descriptors"}


def test_state_defaults_are_go_zero_values() -> None:
    state = State()
    assert state.created.text == "0001-01-01T00:00:00Z"
    assert state.config == Config()
    assert State.from_json(state.to_json()) == state


def test_timestamp() -> None:
    t = Timestamp.parse("2018-07-26T12:08:37.613220873Z")
    assert t.nanosecond == 613220873
    assert t.to_datetime().microsecond == 613220
    assert Timestamp.from_unix_ns(t.unix_ns).text == t.text
    assert Timestamp.parse("2018-07-26T14:08:37.613220873+02:00") == t
    assert Timestamp.from_unix_ns(1_000_000_000).text == "1970-01-01T00:00:01Z"
    assert Timestamp.from_unix_ns(1_500_000_000).text == "1970-01-01T00:00:01.5Z"
    assert Timestamp.from_datetime(t.to_datetime()).unix_ns == t.unix_ns // 1000 * 1000
    now = Timestamp.now()
    assert now.text.endswith("Z") and Timestamp.parse(now.text) == now
    with pytest.raises(ValueError):
        Timestamp.parse("2018-07-26 12:08:37Z")


# -- StateStore ------------------------------------------------------------------------------


def test_default_root() -> None:
    assert DEFAULT_ROOT == "/run/pyrunc"
    assert StateStore(create=False).root == DEFAULT_ROOT


def test_root_is_created_0700(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = StateStore(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    assert StateStore(store.root).root == store.root  # existing root is fine


def test_create_false_does_not_create(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "root", create=False)
    assert not os.path.exists(store.root)
    assert store.list_ids() == []
    with pytest.raises(ContainerNotExistsError):
        store.load("c1")


def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(StateFileError):
        StateStore(tmp_path / "f")


def test_create_save_load_list_remove(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    path = store.create_state(_state(pid=0))
    assert path == str(tmp_path / "c1") == store.container_dir("c1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert store.exists("c1") and not store.exists("c2")
    assert store.load("c1") == _state(pid=0)  # created whole: state.json is there at once
    store.save(_state())
    assert store.load("c1") == _state()
    store.create_state(_state("c0"))
    (tmp_path / "not a container").mkdir()
    (tmp_path / "file").write_text("")
    assert store.list_ids() == ["c0", "c1"]
    store.remove("c1")
    store.remove("c1")  # idempotent
    assert not store.exists("c1")
    assert store.list_ids() == ["c0"]


def test_create_twice_fails(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state())
    with pytest.raises(ContainerExistsError):
        store.create_state(_state())
    (tmp_path / "stray").mkdir()  # an empty directory is taken too (never replaced)
    with pytest.raises(ContainerExistsError):
        store.create_state(_state("stray"))
    assert os.listdir(tmp_path / "stray") == []
    assert sorted(os.listdir(tmp_path)) == ["c1", "stray"]  # no temporary directory left


def test_save_without_container_dir(tmp_path: Path) -> None:
    with pytest.raises(ContainerNotExistsError):
        StateStore(tmp_path).save(_state())


def test_load_fixture(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create("fixture1", FIXTURE.read_bytes())
    state = store.load("fixture1")
    assert state.init_process_pid == 14806
    store.save(state)
    saved = json.loads((tmp_path / "fixture1" / "state.json").read_text())
    assert saved == json.loads(FIXTURE.read_text())


def test_load_corrupt_and_foreign_states(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state())
    state_file = tmp_path / "c1" / "state.json"
    for text in ("", "{", "[]", '{"id": "c1", "bogus": 1}'):
        state_file.write_text(text)
        with pytest.raises(StateFileError):
            store.load("c1")
    state_file.write_text('{"id": "c1", "bogus": 1}')
    assert store.load("c1", strict=False).id == "c1"
    state_file.write_text(_state("other").to_json())
    with pytest.raises(StateFileError, match="other"):
        store.load("c1")


def test_save_is_atomic_when_replace_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state(pid=1))
    before = (tmp_path / "c1" / "state.json").read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError(5, "simulated crash")

    monkeypatch.setattr(os, "rename", boom)
    with pytest.raises(StateFileError):
        store.save(_state(pid=2))
    assert (tmp_path / "c1" / "state.json").read_bytes() == before
    assert os.listdir(tmp_path / "c1") == ["state.json"]  # no temporary file left


def test_save_is_atomic_when_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state(pid=1))
    real_write = os.write

    def boom(fd: int, data: object) -> int:
        real_write(fd, b"{")  # half a file written...
        raise KeyboardInterrupt  # ...then not even an OSError: still cleaned up

    monkeypatch.setattr(os, "write", boom)
    with pytest.raises(KeyboardInterrupt):
        store.save(_state(pid=2))
    monkeypatch.undo()
    assert store.load("c1").init_process_pid == 1
    assert os.listdir(tmp_path / "c1") == ["state.json"]


def test_saved_file_is_complete_json_at_every_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state(pid=7))
    seen: list[bytes] = []
    real_rename = os.rename

    def spy(src: str, dst: str) -> None:
        seen.append(Path(src).read_bytes())  # what a crash right after the rename leaves
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", spy)
    for pid in range(3):
        store.save(_state(pid=pid))
    assert [State.from_json(b).init_process_pid for b in seen] == [0, 1, 2]


def test_concurrent_creates_one_wins(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    n = 16
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            store.create_state(_state("race"))
            outcome = "won"
        except ContainerExistsError:
            outcome = "exists"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1
    assert results.count("exists") == n - 1
    assert os.listdir(tmp_path) == ["race"]


def test_concurrent_saves_under_lock_lose_no_update(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state(pid=0))
    n, rounds = 8, 10

    def worker() -> None:
        for _ in range(rounds):
            with store.lock("c1"):
                state = store.load("c1")
                time.sleep(0.0005)  # widen the race window: without the lock updates get lost
                store.save(attrs.evolve(state, init_process_pid=state.init_process_pid + 1))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.load("c1").init_process_pid == n * rounds


def test_lock_excludes_another_holder(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state())
    entered = threading.Event()
    order: list[str] = []

    def other() -> None:
        with store.lock("c1"):
            order.append("other")
        entered.set()

    with store.lock("c1"):
        t = threading.Thread(target=other)
        t.start()
        assert not entered.wait(0.2)  # blocked while we hold the lock
        order.append("first")
    t.join()
    assert order == ["first", "other"]


def test_lock_missing_container(tmp_path: Path) -> None:
    with pytest.raises(ContainerNotExistsError), StateStore(tmp_path).lock("nope"):
        pass


def test_lock_waiter_sees_a_destroyed_container_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verb that waited for the lock while the container was destroyed (and maybe created
    again under the same id) must not act on it: entering the lock says it is gone."""
    from libcontainer.lifecycle import store as store_module

    store = StateStore(tmp_path)
    store.create_state(_state())
    holder = store.lock("c1")
    outcome: list[str] = []
    waiting = threading.Event()
    real_flock = store_module.fcntl.flock

    def flock(fd: int, op: int) -> None:
        if threading.current_thread() is not threading.main_thread():
            waiting.set()  # the waiter holds the old directory open and is about to block
        real_flock(fd, op)

    monkeypatch.setattr(store_module.fcntl, "flock", flock)

    def waiter() -> None:
        try:
            with store.lock("c1"):
                outcome.append("entered")
        except ContainerNotExistsError:
            outcome.append("gone")

    with holder:
        t = threading.Thread(target=waiter)
        t.start()
        assert waiting.wait(10)
        store.remove("c1")
        store.create_state(_state())  # a new container, same id, another directory
    t.join()
    assert outcome == ["gone"]


def test_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.create_state(_state())
    lock = store.lock("c1")
    with lock, lock:
        assert lock.held
    assert not lock.held
