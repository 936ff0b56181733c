"""Building and doctoring model-file containers in tests (sleepstage.io._model_file)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path


def read_container(path) -> tuple[dict, bytes]:
    """(header from metadata.json, payload bytes) of a model file."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("metadata.json")), archive.read("payload")


def write_container(path, header: dict, payload: bytes, *, rehash: bool = True) -> Path:
    """Write a model-file container; with ``rehash``, the header's size and hash follow."""
    header = json.loads(json.dumps(header))
    if rehash:
        header["payload"]["sha256"] = hashlib.sha256(payload).hexdigest()
        header["payload"]["size"] = len(payload)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps(header))
        archive.writestr("payload", payload)
    return Path(path)


def doctored(source, target, *, payload: bytes | None = None, rehash: bool = True,
             **changes) -> Path:
    """Copy the model file ``source`` to ``target`` with header keys or the payload changed.

    A dict value is merged into the header's dict of that key (``metadata={...}``,
    ``payload_record={...}`` for the ``payload`` record); any other value replaces it.
    """
    header, data = read_container(source)
    if "payload_record" in changes:
        changes["payload"] = changes.pop("payload_record")
    for key, value in changes.items():
        header[key] = {**header[key], **value} if isinstance(value, dict) else value
    return write_container(target, header, data if payload is None else payload,
                           rehash=rehash)
