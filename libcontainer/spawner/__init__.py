"""The spawner: a warm helper process that clones container processes (see server.py)."""

from .client import Spawner, close_default_spawner, default_spawner
from .fork import ForkSpawner
from .protocol import Guard, Release, SpawnerLike, SpawnRequest, SpawnResult

__all__ = [
    "ForkSpawner",
    "Guard",
    "Release",
    "SpawnRequest",
    "SpawnResult",
    "Spawner",
    "SpawnerLike",
    "close_default_spawner",
    "default_spawner",
]
