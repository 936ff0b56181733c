"""A scorer for scikit-learn's model selection that decodes each recording on its own."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest

from .._internal.routing import predict_with_groups
from .._internal.validation import check_option
from ._scores import staging_scores

__all__ = ["SCORING", "StagingScorer"]

#: Metrics :class:`StagingScorer` computes.
SCORING: tuple[str, ...] = ("balanced_accuracy", "kappa", "accuracy", "f1_macro")


class StagingScorer:
    """Scorer that predicts each held-out recording on its own, then scores the hypnogram.

    A string scorer such as ``scoring="balanced_accuracy"`` calls ``estimator.predict(X)``
    without recording ids: a pipeline with temporal context or HMM smoothing then treats
    all held-out recordings (or blocks) as one continuous recording. This scorer requests
    ``groups`` through scikit-learn's metadata routing and passes them to ``predict``
    (:func:`~sleepstage.pipelines.predict_with_groups`), so every recording is decoded
    separately, exactly as at deployment.

    Parameters
    ----------
    metrics : str or sequence of str, default "balanced_accuracy"
        Among :data:`SCORING`: ``"balanced_accuracy"``, ``"kappa"`` (Cohen's),
        ``"accuracy"``, ``"f1_macro"``. One name: the call returns a float; several: a
        dict (multi-metric search).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((6, 1)), np.array([1, 1, 2, 2, 3, 3])
    >>> model = DummyClassifier(strategy="most_frequent").fit(X, y)
    >>> StagingScorer("balanced_accuracy")(model, X, y)
    0.3333333333333333
    """

    def __init__(self, metrics: str | Sequence[str] = "balanced_accuracy") -> None:
        self.metrics = metrics

    def _names(self) -> list[str]:
        names = [self.metrics] if isinstance(self.metrics, str) else list(self.metrics)
        if not names:
            raise ValueError(f"The 'scoring' parameter is empty; choose from {list(SCORING)}.")
        for name in names:
            check_option("scoring", name, SCORING)
        return names

    def __call__(self, estimator, X, y, groups=None) -> float | dict[str, float]:
        """Score ``estimator`` on ``X``, decoding each recording of ``groups`` separately.

        Parameters
        ----------
        estimator : fitted estimator
        X : array-like
            Held-out epochs (or features), each recording contiguous and in time order.
        y : array-like of shape (n_epochs,)
            True stages.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        float or dict
        """
        names = self._names()
        pred = predict_with_groups(estimator, X, groups)
        scores = staging_scores(np.asarray(y), pred)
        scores["f1_macro"] = float(np.mean(list(scores["f1"].values())))
        values = {name: float(scores[name]) for name in names}
        return values[names[0]] if isinstance(self.metrics, str) else values

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``groups`` for scoring (routed by ``GridSearchCV`` and friends).

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __repr__(self) -> str:
        return f"StagingScorer({self.metrics!r})"
