"""An OCI image layout made from a rootfs directory, for containerd to import.

No registry is reachable from the test machines, so the tests build their image: one layer
(the busybox rootfs of ``tests/conftest.py``), a config, a manifest and an index naming it,
packed as the tarball ``ctr images import`` reads. No pytest here: ``benchmarks/`` uses it too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence
from pathlib import Path


def _blob(blobs: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_oci_image(rootfs: Path, dest: Path, name: str, cmd: Sequence[str] = ("sh",)) -> Path:
    """Write ``dest/image.tar``: an OCI image layout with one layer, ``rootfs``.

    ``name`` becomes the image's reference (``io.containerd.image.name``), ``cmd`` its
    default command (what a pod's sandbox container runs when the image is the
    ``sandbox_image``).
    """
    layout = dest / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for entry in sorted(rootfs.iterdir()):
            tar.add(entry, arcname=entry.name)
    layer_tar = raw.getvalue()
    layer = _blob(blobs, gzip.compress(layer_tar, mtime=0))
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    config = {
        "architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin:/sbin"], "Cmd": list(cmd), "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    cfg = _blob(blobs, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    man = _blob(blobs, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **man,
                "annotations": {"io.containerd.image.name": name},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    out = dest / "image.tar"
    with tarfile.open(out, "w") as tar:
        for entry in sorted(layout.iterdir()):
            tar.add(entry, arcname=entry.name)
    return out
