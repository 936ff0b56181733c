"""Base classes of the per-epoch feature families."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._internal.validation import check_epochs, check_positive
from ._base import EpochTransformer
from ._engine import (
    EpochBatch,
    PSDPlan,
    Workspace,
    check_batch_finite,
    check_features_finite,
    make_psd_plan,
    notch_mask,
    run_batches,
)

__all__ = ["FeatureFamily", "PSDFeatureFamily", "channel_indices"]

#: Epochs per batch when a family runs on its own (EpochFeatures has a parameter).
STANDALONE_BATCH_SIZE: int = 1024


class FeatureFamily(EpochTransformer):
    """An :class:`EpochTransformer` that fills its columns from an :class:`EpochBatch`.

    Subclasses implement ``_feature_table(ch_names, ch_types)`` returning
    ``[(channel, feature, column_family), ...]`` (column ``<channel>_<feature>``) and
    ``_fill(batch, out)`` writing those columns for one batch into the float32 array
    ``out`` (a view, possibly into a wider output). Families running
    inside :class:`~sleepstage.features.EpochFeatures` share one batch, hence one PSD,
    one centred copy, one sort. A family becomes available to ``EpochFeatures`` by name
    once registered with :func:`~sleepstage.features.register_family`.

    Class attributes declare what the registry records:

    ``column_families``
        The column families (``feature_families_`` values) the family produces, e.g.
        ``("hjorth",)``.
    ``statistics``
        Statistics over samples (names of :data:`STATISTICS`, properties of
        :class:`EpochBatch`) that ``_fill`` reads; the default ``_prefetch`` declares them
        so that one pass over the samples computes those of every family.

    Fitted attributes added to those of :class:`EpochTransformer`: ``feature_families_``,
    the column family of each output column (one of ``"band_power"``,
    ``"spectral_shape"``, ``"emg"``, ``"hjorth"``, ``"time"`` for the built-in families),
    and ``feature_channels_``, its channel.
    """

    column_families: ClassVar[tuple[str, ...]] = ()
    statistics: ClassVar[tuple[str, ...]] = ()

    # -- hooks ------------------------------------------------------------------------------
    def _feature_table(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list:
        raise NotImplementedError

    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        raise NotImplementedError

    def _prefetch(self, batch: EpochBatch) -> None:
        """Declare shared intermediates before any ``_fill``: by default ``statistics``."""
        if self.statistics:
            batch.prefetch_statistics(self.statistics)

    @classmethod
    def column_family_of(cls, feature: str) -> str | None:
        """Column family of a feature name of this family (without ``<channel>_``), or None.

        Lets :func:`~sleepstage.features.column_family_of` attribute a bare column name
        (e.g. of a model whose feature step is unknown) without guessing; families whose
        names cannot be told apart return None (the default).
        """
        return None

    # -- plumbing ---------------------------------------------------------------------------
    def _feature_names(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list[str]:
        return [f"{ch}_{feature}" for ch, feature, _ in self._feature_table(ch_names, ch_types)]

    def _validate_fit_input(self, X) -> np.ndarray:
        X3 = super()._validate_fit_input(X)
        table = self._feature_table(self.ch_names_, self.ch_types_)
        self.feature_families_ = np.asarray([family for _, _, family in table], dtype=object)
        self.feature_channels_ = np.asarray([ch for ch, _, _ in table], dtype=object)
        return X3

    def _validate_transform_input(self, X) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        # Finiteness is checked batch by batch in _compute (check_batch_finite).
        return check_epochs(
            X, len(self.ch_names_), n_samples=self.n_samples_, ch_names=self.ch_names_,
            allow_nan=True,
        )

    def _compute(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.feature_names_out_.size), dtype=np.float32)

        def work(start: int, stop: int, fft_workers: int, workspace: Workspace) -> None:
            batch = EpochBatch(X[start:stop], fft_workers=fft_workers, workspace=workspace)
            self._prefetch(batch)
            check_batch_finite(batch, X)  # after the declarations: see check_batch_finite
            self._fill(batch, out[start:stop])

        run_batches(X.shape[0], STANDALONE_BATCH_SIZE, work, n_jobs=1)
        return check_features_finite(out, X, self.feature_names_out_)

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit to ``X`` and return its features, validating ``X`` only once.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Epochs, flat (channel by channel) or ``(n_epochs, n_channels, n_samples)``.
        y : ignored

        Returns
        -------
        numpy.ndarray, shape (n_epochs, n_features), float32
        """
        return self._compute(self._validate_fit_input(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # (n_epochs, n_channels, n_samples) is accepted
        tags.transformer_tags.preserves_dtype = ["float32"]  # output is always float32
        return tags

    def get_feature_families_out(self) -> np.ndarray:
        """Family of every output column (same order as ``get_feature_names_out()``)."""
        check_is_fitted(self, "feature_families_")
        return self.feature_families_.copy()


class PSDFeatureFamily(FeatureFamily):
    """A :class:`FeatureFamily` whose features are read from the PSD of its ``channels_``.

    Subclasses have the PSD parameters ``method``, ``window``, ``overlap`` and
    ``bandwidth`` and the mains parameters ``notch_freqs`` and ``notch_width``; their
    ``_check_params`` sets ``channels_`` and calls :meth:`_fit_psd_plan` and
    :meth:`_fit_notch`. Families with equal plans share one PSD per batch; the notches are
    left out when each family reads it, so families with different notches still share it.
    """

    def _fit_notch(self, plan: PSDPlan) -> np.ndarray:
        """Validate the notch parameters; the bins of ``plan.freqs`` they leave out.

        Sets ``notch_bands_``, the left-out bands ``(lo, hi)`` in Hz that hold at least one
        bin of the PSD.
        """
        width = check_positive("notch_width", self.notch_width)
        freqs = self.notch_freqs
        if freqs is None:
            freqs = ()
        elif isinstance(freqs, (int, float, np.number)):
            freqs = (freqs,)
        notch_freqs = []
        for f in freqs:
            try:
                value = float(f)
            except (TypeError, ValueError):
                value = float("nan")
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    "The 'notch_freqs' parameter must be positive mains frequencies in Hz "
                    f"(e.g. (50, 60)) or None, but got {self.notch_freqs!r}."
                )
            notch_freqs.append(value)
        mask = notch_mask(plan.freqs, tuple(notch_freqs), width, plan.df)
        self.notch_bands_ = [
            (f - width / 2, f + width / 2) for f in notch_freqs
            if notch_mask(plan.freqs, (f,), width, plan.df).any()
        ]
        return mask

    def _fit_psd_plan(self, n_samples: int) -> PSDPlan:
        """Resolve the PSD settings against the epoch length, as the attribute ``psd_plan_``."""
        self.psd_plan_ = make_psd_plan(
            self.sfreq_, n_samples, method=self.method, window=self.window,
            overlap=self.overlap, bandwidth=self.bandwidth,
        )
        return self.psd_plan_

    def _prefetch(self, batch: EpochBatch) -> None:
        """Declare the PSD of ``channels_`` and the ``statistics``; nothing without channels."""
        if self.channels_:
            batch.prefetch_psd(self.psd_plan_, self.channels_)
            super()._prefetch(batch)


def channel_indices(ch_types: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Positions of the channels whose type is in ``wanted``."""
    return [i for i, ch_type in enumerate(ch_types) if ch_type in wanted]
