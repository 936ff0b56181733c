"""``predict`` on an EDF file a chunk of epochs at a time, in memory bounded by the chunk.

The samples of a recording are read with :func:`~sleepstage.data.iter_edf` (channels,
renames and resampling exactly as :func:`~sleepstage.cli._loading.load_data` does), and of
each chunk only what the scoring needs is kept: the rows of the pipeline's per-epoch feature
step (:func:`~sleepstage.pipelines.split_per_epoch`), the artefact detector's per-epoch
statistics (:meth:`~sleepstage.features.ArtefactDetector.epoch_statistics`) and the
spectral edges :func:`~sleepstage.cli._provenance.warn_if_unlike_training` compares with
training. The per-recording steps (scaler, context, classifier and HMM) and the artefact
decision then run on the whole recording's rows, as they do on a recording read at once
(the context's output a block of rows at a time, see
:func:`~sleepstage.pipelines.predict_rows`): the outputs are the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["CHUNK_BYTES", "StreamedRecording", "chunk_epochs_for", "stream_edf"]

logger = logging.getLogger("sleepstage.cli")

#: Samples of one chunk, as MNE reads them (float64 at the file's rate), in bytes: 8 MB is
#: 5.5 min of 3 channels at 1 kHz, 55 min at 100 Hz. Reading a chunk takes a few times this
#: (MNE's buffers, its FFT upsampling of slower channels, the resampled copy); chunks of
#: 16 MB are no faster (12-h 1 kHz file) and add 75 MB to the peak on Sleep-EDF SC4001.
CHUNK_BYTES = 8_000_000


def chunk_epochs_for(sfreq: float, n_channels: int, epoch_length: float,
                     budget: float = CHUNK_BYTES) -> int:
    """Epochs per chunk so that a chunk's float64 samples at ``sfreq`` fit in ``budget`` bytes."""
    per_epoch = max(1.0, float(sfreq) * float(epoch_length) * max(1, n_channels) * 8)
    return max(1, int(budget // per_epoch))


@dataclass
class StreamedRecording:
    """One recording read in chunks: what scoring needs, without its samples.

    ``features`` are the rows of the pipeline's per-epoch step and ``rest`` the pipeline
    after it; ``flags`` the artefact table of the whole recording; ``edges`` the channels'
    median spectral edges (None when the model stores none). The other attributes are those
    of the :class:`~sleepstage.data.EpochData` the recording would be.
    """

    features: Any
    rest: Any
    flags: Any
    edges: Any
    y: Any
    groups: Any
    onsets: Any
    ch_names: tuple
    sfreq: float
    epoch_length: float

    @property
    def n_epochs(self) -> int:
        return len(self.groups)

    @property
    def recordings(self):
        import numpy as np

        return np.asarray(self.groups[:1])


def stream_edf(model, args, entry: dict, *, chunk_epochs: int | None = None):
    """Read and prepare one EDF entry for scoring a chunk at a time.

    Parameters
    ----------
    model : ModelFile
        The model the recording is scored with.
    args : argparse.Namespace
        The ``predict`` options (``--channel``, ``--rename``, ``--stages``, ...).
    entry : dict
        ``{"psg": path, "hypnogram": path or None, "id": recording id}``.
    chunk_epochs : int, optional
        Epochs per chunk; default :func:`chunk_epochs_for` the file's rate and channels.

    Returns
    -------
    tuple or None
        ``(StreamedRecording, start datetime or None)``; None when the model's pipeline has
        no per-epoch step (a neural model reads raw epochs: the recording is then read
        whole).

    Raises
    ------
    DataError
        As :func:`~sleepstage.cli._loading.load_data` for the same file.
    """
    import numpy as np

    from ..data import iter_edf
    from ..features import ArtefactDetector, ArtefactStatistics
    from ..pipelines import split_per_epoch
    from ._args import DataError
    from ._loading import _adapt, _edf_reading, _quiet_mne, _request
    from ._provenance import edge_step, epoch_edges, median_edges

    split = split_per_epoch(model.pipeline)
    if split is None:
        return None
    step, rest = split
    request = _request(args, model)
    _quiet_mne(args)
    psg, options, (header_names, header_sfreq, meas_date) = _edf_reading(entry, request)
    source = f"EDF {psg.name}"
    if chunk_epochs is None:
        n_channels = len(options["channels"] or header_names)
        chunk_epochs = chunk_epochs_for(header_sfreq, n_channels, options["epoch_length"])
    try:
        chunks = iter_edf(psg, chunk_epochs=chunk_epochs, **options)
        n_epochs = chunks.n_epochs
        want_edges = isinstance(model.metadata.get("channel_edge_hz"), dict)
        every = edge_step(n_epochs)
        features = detector = None
        statistics, edges, ys, onsets = [], [], [], []
        first = 0
        for chunk in chunks:
            part = _adapt(chunk, source, request)
            stop = first + part.n_epochs
            rows = step.transform(part.X)
            if features is None:  # one array for the whole recording, filled chunk by chunk
                features = np.empty((n_epochs, *rows.shape[1:]), dtype=rows.dtype)
                layout = part.layout()  # sfreq, ch_names, ch_types, epoch_length
                detector = ArtefactDetector(**layout).fit(part.X[:1])
            features[first:stop] = rows
            statistics.append(detector.epoch_statistics(part.X))
            if want_edges:
                picked = np.arange(-first % every, part.n_epochs, every)
                edges.append(epoch_edges(part.X[picked], part.sfreq))
            ys.append(part.y)
            onsets.append(np.asarray(part.onsets))
            first = stop
            del part, chunk, rows
    except ValueError as exc:
        raise DataError(f"{psg}: {exc}") from exc
    rid = options["recording_id"]
    groups = np.full(n_epochs, rid)
    flags = detector.detect_statistics(ArtefactStatistics.concatenate(statistics), groups)
    logger.info("loaded %d epochs from 1 recording in chunks of %d: %d channels %s at %g Hz, "
                "%g-s epochs", n_epochs, chunk_epochs, len(layout["ch_names"]),
                list(layout["ch_names"]), layout["sfreq"], layout["epoch_length"])
    streamed = StreamedRecording(
        features=features, rest=rest, flags=flags,
        edges=median_edges(np.concatenate(edges)) if want_edges else None,
        y=None if ys[0] is None else np.concatenate(ys), groups=groups,
        onsets=np.concatenate(onsets), ch_names=tuple(layout["ch_names"]),
        sfreq=layout["sfreq"], epoch_length=layout["epoch_length"])
    return streamed, meas_date
