"""PyTorch import guard and the skorch plumbing shared by the neural baselines.

Design
------
The estimators users see (:class:`~sleepstage.models.LSTMClassifier`,
:class:`~sleepstage.models.ConvNetClassifier`) are our own ``ClassifierMixin + BaseEstimator``
classes whose ``__init__`` stores keyword-only parameters and nothing else. ``fit`` validates
them, learns the label encoding and the per-channel standardisation, and then creates and
trains a skorch :class:`~skorch.NeuralNetClassifier` (fitted attribute ``net_``) with the
architecture passed as ``module__*`` settings and a weighted ``CrossEntropyLoss`` on logits.

Composition was chosen over subclassing ``NeuralNetClassifier`` because skorch's own
``get_params`` exposes every ``module__*``, ``optimizer__*`` and ``iterator_*`` setting and
re-initialises the net when some of them change; a thin sklearn-facing class keeps
``get_params`` to the parameters documented here, so ``clone``, ``GridSearchCV`` and the
``Pipeline`` parameter syntax (``classifier__lr``) behave like any scikit-learn estimator.
No skorch method is overridden.

Validation split and metadata routing
-------------------------------------
Early stopping watches a validation split taken by recording, or by stratified blocks of
time when there are too few recordings (:func:`validation_mask`). The recording ids arrive as
``fit(X, y, groups=...)``; the classes request them by default
(``__metadata_request__fit = {"groups": True}``) so that scikit-learn's metadata routing
delivers them through a ``Pipeline``, ``GridSearchCV`` or the HMM smoother. The split is
resolved by :func:`validation_mask` and handed to skorch as
``ValidSplit(PredefinedSplit(test_fold), stratified=False)``. Computing the fold here rather
than routing ``groups`` into skorch keeps the torch modules' ``forward(x)`` free of the
extra keyword that skorch would pass along with ``groups``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._internal.validation import check_epochs, check_option, check_positive

try:  # the ``neural`` extra
    import skorch
    import torch
    from skorch.callbacks import EarlyStopping, GradientNormClipping
    from skorch.dataset import ValidSplit
    from torch import nn

    TorchModule: type = nn.Module
    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    skorch = torch = nn = EarlyStopping = GradientNormClipping = ValidSplit = None
    TorchModule = object
    _IMPORT_ERROR = exc

__all__ = [
    "COMMON_ATTRIBUTES",
    "COMMON_PARAMETERS",
    "OPTIMIZERS",
    "TorchClassifierBase",
    "TorchModule",
    "check_int",
    "require_torch",
    "torch_settings",
    "validation_mask",
]

logger = logging.getLogger(__name__)

#: Optimizers accepted by name (torch.optim classes are accepted as well).
OPTIMIZERS: dict[str, str] = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
}


def require_torch(what: str) -> None:
    """Raise ``ImportError`` naming the ``neural`` extra if PyTorch or skorch is missing.

    Parameters
    ----------
    what : str
        Name of the class or function that needs them, used in the message.
    """
    if _IMPORT_ERROR is not None:
        raise ImportError(
            f"{what} needs PyTorch and skorch: pip install 'sleepstage[neural]' "
            f"({_IMPORT_ERROR})"
        ) from _IMPORT_ERROR


@contextmanager
def torch_settings(seed: int | None, n_threads: int) -> Iterator[None]:
    """Seed, thread count and deterministic algorithms for one fit or predict call.

    The global torch random state, thread count and determinism flag are restored on exit,
    so a fit does not change the caller's session.
    """
    previous_threads = torch.get_num_threads()
    previous_det = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        try:
            torch.set_num_threads(n_threads)
            torch.use_deterministic_algorithms(True, warn_only=True)
            if seed is not None:
                torch.manual_seed(seed)
            yield
        finally:
            torch.set_num_threads(previous_threads)
            torch.use_deterministic_algorithms(previous_det, warn_only=previous_warn)


#: Contiguous blocks the training data are cut into when too few recordings can be held out
#: whole, per unit of ``validation_fraction``: 0.2 gives 20 blocks, 4 of them for validation.
VALIDATION_BLOCKS_PER_FRACTION: float = 4.0

#: Random draws of held-out units among which the best-stratified one is kept.
VALIDATION_DRAWS: int = 200


def _time_blocks(inverse: np.ndarray, counts: np.ndarray, n_blocks: int) -> np.ndarray:
    """Block number of every epoch: each recording cut into contiguous stretches of time.

    The ``n_blocks`` blocks are shared among the recordings in proportion to their length
    (at least one per recording, at most one per epoch).
    """
    per_recording = np.clip(np.round(n_blocks * counts / counts.sum()).astype(np.int64),
                            1, counts)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(inverse.size, dtype=np.int64)
    rank[order] = np.arange(inverse.size) - starts[inverse[order]]
    # position within the recording -> block within the recording -> global block number
    local = rank * per_recording[inverse] // counts[inverse]
    offsets = np.concatenate([[0], np.cumsum(per_recording)[:-1]])
    return offsets[inverse] + local


def _stratified_units(units: np.ndarray, n_held: int, y: np.ndarray | None, fraction: float,
                      rng: np.random.RandomState) -> np.ndarray:
    """Choose ``n_held`` of the units (numbered ``0..n_units-1``) for validation.

    Among :data:`VALIDATION_DRAWS` random draws, keep the one whose validation epochs best
    match the class mix of all epochs: every class present on both sides first, then the
    smallest total-variation distance between the two class mixes, then the validation
    share closest to ``fraction``. Without ``y`` the first draw is kept.
    """
    n_units = int(units.max()) + 1
    draws = [np.sort(rng.choice(n_units, n_held, replace=False))
             for _ in range(VALIDATION_DRAWS if y is not None else 1)]
    if y is None:
        return draws[0]
    classes, y_codes = np.unique(y, return_inverse=True)
    # epochs of each class in each unit
    table = np.zeros((n_units, classes.size))
    np.add.at(table, (units, y_codes), 1)
    overall = table.sum(axis=0)
    best, best_key = draws[0], None
    for draw in draws:
        held = table[draw].sum(axis=0)
        kept = overall - held
        missing = int((held == 0).sum() + (kept == 0).sum())
        distance = 0.5 * np.abs(held / held.sum() - overall / overall.sum()).sum()
        key = (missing, round(float(distance), 3), abs(held.sum() / overall.sum() - fraction))
        if best_key is None or key < best_key:
            best, best_key = draw, key
    return best


def validation_mask(
    n_epochs: int,
    groups: np.ndarray | None,
    fraction: float,
    rng: np.random.RandomState,
    y: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose the early-stopping validation epochs: whole recordings, or stratified blocks.

    With at least ``1 / fraction`` recordings, ``floor(fraction * n_recordings)`` whole
    recordings are held out. With fewer recordings, or without ``groups`` (one continuous
    recording), every recording is cut into contiguous blocks of time (about
    ``4 / fraction`` blocks in all) and ``fraction`` of the blocks are held out. In both
    cases the held-out units are stratified when ``y`` is given: among
    :data:`VALIDATION_DRAWS` random draws, the one whose validation epochs hold every stage
    (and leave every stage in training) with the class mix closest to the whole data's is
    kept. Shuffled epochs are never used: a neighbour of a training epoch is nearly the same
    epoch, and early stopping would be tuned on leaked data. A single tail block is not used
    either: the end of a short recording often holds a skewed stage mix (a long bout of
    sleep), and early stopping on it can keep a network that predicts one stage.

    Parameters
    ----------
    n_epochs : int
        Number of training epochs.
    groups : numpy.ndarray, shape (n_epochs,) or None
        Recording id of each epoch; epochs of one recording in time order.
    fraction : float
        Target share of validation epochs, in ``(0, 1)``.
    rng : numpy.random.RandomState
        Draws the held-out recordings or blocks.
    y : numpy.ndarray, shape (n_epochs,), optional
        Labels, for the stratification.

    Returns
    -------
    valid : numpy.ndarray of bool, shape (n_epochs,)
        True for validation epochs (may be all False for tiny inputs).
    held_out : numpy.ndarray
        Ids of the recordings held out whole (empty when blocks were used).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([1, 2, 3, 1, 2], 20)
    >>> valid, held_out = validation_mask(100, None, 0.2, np.random.RandomState(0), y)
    >>> int(valid.sum()), held_out.size, sorted(set(y[valid].tolist()))
    (20, 0, [1, 2, 3])
    """
    if groups is None:
        groups = np.zeros(n_epochs, dtype=int)
    recordings, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    n_held = int(np.floor(fraction * len(recordings) + 1e-9))
    if len(recordings) >= 2 and n_held >= 1:
        n_held = min(n_held, len(recordings) - 1)
        chosen = _stratified_units(inverse, n_held, y, fraction, rng)
        held_out = recordings[chosen]
        return np.isin(groups, held_out), held_out
    n_blocks = int(min(np.ceil(VALIDATION_BLOCKS_PER_FRACTION / fraction), n_epochs))
    blocks = _time_blocks(inverse, counts, n_blocks)
    n_units = int(blocks.max()) + 1
    if n_units < 2:
        return np.zeros(n_epochs, dtype=bool), recordings[:0]
    n_held = int(np.clip(np.round(fraction * n_units), 1, n_units - 1))
    chosen = _stratified_units(blocks, n_held, y, fraction, rng)
    return np.isin(blocks, chosen), recordings[:0]


def _silent(*args: Any, **kwargs: Any) -> None:
    """Sink for skorch messages when ``verbose=0`` (a module-level function pickles)."""


COMMON_PARAMETERS = """
    n_channels : int, default=3
        Number of channels in ``X``. A 2-D ``X`` of shape ``(n_epochs, n_channels *
        n_samples)`` is split channel by channel; a 3-D ``X`` must have this many channels.
    max_epochs : int, default=30
        Maximum number of passes over the training data.
    batch_size : int, default=128
        Epochs per gradient step.
    lr : float, default=1e-3 (CNN), 3e-3 (LSTM)
        Learning rate (of Adam by default).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch.optim.Optimizer subclass, \
default="adam"
        Optimizer.
    patience : int, default=5
        Early stopping: training stops after this many passes without a lower validation
        loss, and the weights of the best pass are restored.
    grad_clip : float or None, default=1.0 (LSTM), None (CNN)
        Maximum norm of the gradient at each step (skorch's ``GradientNormClipping``);
        None does not clip.
    validation_fraction : float, default=0.2
        Share of the training data held out for early stopping: whole recordings when
        there are enough, else contiguous blocks of time, chosen so that every stage is
        represented on both sides (see :func:`sleepstage.models._torch.validation_mask`);
        0 trains for ``max_epochs`` without validation. When early stopping keeps the
        weights of the first pass, a ``ConvergenceWarning`` says so.
    class_weight : {"balanced"} or None, default="balanced"
        "balanced" weights the cross-entropy by ``n / (n_classes * count)`` of each class in
        the training labels, which targets balanced accuracy; None weighs epochs equally.
    device : str, default="cpu"
        Torch device.
    n_threads : int or None, default=None
        Torch threads during ``fit`` and ``predict`` (restored afterwards); None uses
        ``os.cpu_count()``.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, batch order and the validation recordings. With an
        int, repeated fits on CPU give identical predictions.
    verbose : int, default=1
        1 prints one line of losses per training pass (skorch's log); 0 is silent."""

#: The fitted attributes every subclass documents; ``TorchClassifierBase.fit`` sets them.
COMMON_ATTRIBUTES = """
    classes_ : numpy.ndarray
        Labels seen in ``fit``.
    channel_mean_, channel_scale_ : numpy.ndarray, shape (n_channels,)
        Per-channel standardisation learned on the training data.
    class_weight_ : numpy.ndarray, shape (n_classes,)
        Cross-entropy weights.
    validation_recordings_ : numpy.ndarray
        Recordings held out whole for early stopping (empty if blocks of time were used).
    n_iter_ : int
        Training passes run."""


class TorchClassifierBase(ClassifierMixin, BaseEstimator):
    """Shared ``fit`` / ``predict`` of the neural baselines; subclasses set the module.

    Subclasses define ``__init__`` with their full keyword-only parameter list (it is what
    ``get_params`` reads), and implement ``_module_class()`` and
    ``_module_params(n_channels, n_samples, n_classes)``; the latter validates the
    architecture settings against the data and returns the ``module__*`` settings.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``n_channels_``, ``n_samples_``,
    ``channel_mean_``, ``channel_scale_``, ``class_weight_``, ``validation_recordings_``,
    ``n_validation_epochs_``, ``n_iter_`` (training passes run), ``n_parameters_`` and
    ``net_`` (the trained skorch ``NeuralNetClassifier``; its ``module_`` is the torch model).
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True}

    # -- hooks ------------------------------------------------------------------------------
    def _module_class(self) -> type:
        raise NotImplementedError

    def _module_params(self, n_channels: int, n_samples: int, n_classes: int) -> dict:
        raise NotImplementedError

    # -- validation -------------------------------------------------------------------------
    def _check_common_params(self) -> None:
        check_int("n_channels", self.n_channels)
        check_int("max_epochs", self.max_epochs)
        check_int("batch_size", self.batch_size)
        check_int("patience", self.patience)
        check_positive("lr", self.lr)
        fraction = check_positive("validation_fraction", self.validation_fraction, strict=False)
        if fraction >= 1:
            raise ValueError(
                "The 'validation_fraction' parameter must be in [0, 1), "
                f"but got {self.validation_fraction!r}."
            )
        check_option("class_weight", self.class_weight, ["balanced", None])
        if self.n_threads is not None:
            check_int("n_threads", self.n_threads)
        if not isinstance(self.device, str):
            raise TypeError(f"The 'device' parameter must be a string, got {self.device!r}.")
        check_int("verbose", self.verbose, minimum=0)
        if self.grad_clip is not None:
            check_positive("grad_clip", self.grad_clip)

    def _resolve_optimizer(self) -> type:
        if isinstance(self.optimizer, str):
            name = check_option("optimizer", self.optimizer.lower(), OPTIMIZERS)
            return getattr(torch.optim, OPTIMIZERS[name])
        if isinstance(self.optimizer, type) and issubclass(self.optimizer, torch.optim.Optimizer):
            return self.optimizer
        raise TypeError(
            "The 'optimizer' parameter must be one of "
            f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass, got {self.optimizer!r}."
        )

    def _threads(self) -> int:
        return int(self.n_threads) if self.n_threads is not None else (os.cpu_count() or 1)

    def _standardise(self, X3: np.ndarray) -> np.ndarray:
        X3 = X3 - self.channel_mean_[None, :, None]
        X3 /= self.channel_scale_[None, :, None]
        return X3

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X, y, groups=None):
        """Train the network, with early stopping on held-out recordings.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Raw epochs, channel by channel, or ``(n_epochs, n_channels, n_samples)``.
        y : array-like, shape (n_epochs,)
            Stage of each epoch, any label values (returned as given by ``predict``).
        groups : array-like, shape (n_epochs,), optional
            Recording id of each epoch (epochs of a recording contiguous and in time order).
            Without it, ``X`` is one continuous recording in time order.

        Returns
        -------
        self
        """
        name = type(self).__name__
        require_torch(name)
        self._check_common_params()
        optimizer = self._resolve_optimizer()
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        X3 = check_epochs(X, int(self.n_channels))
        n_epochs, n_channels, n_samples = X3.shape
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a column vector: warn and flatten
        if y.ndim != 1 or y.shape[0] != n_epochs:
            raise ValueError(
                f"y must be 1-D with one label per epoch ({n_epochs}), got shape {y.shape}."
            )
        check_classification_targets(y)  # stage labels, not a continuous target
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"{name} needs at least 2 classes in y, but got one class: "
                f"{encoder.classes_.tolist()}."
            )
        y_enc = encoder.transform(y).astype(np.int64)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n_epochs,):
                raise ValueError(
                    f"groups must have one recording id per epoch, shape ({n_epochs},), "
                    f"got {groups.shape}."
                )
        n_classes = len(encoder.classes_)
        module_params = self._module_params(n_channels, n_samples, n_classes)

        self.classes_ = encoder.classes_
        self.n_channels_ = n_channels
        self.n_samples_ = n_samples
        self.n_features_in_ = n_channels * n_samples
        mean = X3.mean(axis=(0, 2), dtype=np.float64)
        scale = X3.std(axis=(0, 2), dtype=np.float64)
        self.channel_mean_ = mean.astype(np.float32)
        self.channel_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        if self.class_weight == "balanced":
            weights = compute_class_weight("balanced", classes=np.arange(n_classes), y=y_enc)
        else:
            weights = np.ones(n_classes)
        self.class_weight_ = weights

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        fraction = float(self.validation_fraction)
        valid = np.zeros(n_epochs, dtype=bool)
        held_out = np.asarray([])
        if fraction > 0:
            valid, held_out = validation_mask(n_epochs, groups, fraction, rng, y_enc)
            if not valid.any() or valid.all():
                logger.warning(
                    "%s: too few epochs (%d) for a validation split; training %d passes "
                    "without early stopping.", name, n_epochs, self.max_epochs,
                )
                valid[:] = False
        self.validation_recordings_ = held_out
        self.n_validation_epochs_ = int(valid.sum())

        sink = print if self.verbose else _silent
        if valid.any():
            train_split = ValidSplit(PredefinedSplit(np.where(valid, 0, -1)), stratified=False)
            callbacks = [(
                "early_stopping",
                EarlyStopping(monitor="valid_loss", patience=int(self.patience),
                              load_best=True, sink=sink),
            )]
        else:
            train_split, callbacks = None, []
        if self.grad_clip is not None:
            callbacks.append(("grad_clip", GradientNormClipping(float(self.grad_clip))))

        net = skorch.NeuralNetClassifier(
            module=self._module_class(),
            **{f"module__{key}": value for key, value in module_params.items()},
            criterion=nn.CrossEntropyLoss,
            criterion__weight=torch.as_tensor(weights, dtype=torch.float32),
            optimizer=optimizer,
            lr=float(self.lr),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            iterator_train__shuffle=True,
            train_split=train_split,
            callbacks=callbacks,
            classes=np.arange(n_classes),
            device=self.device,
            verbose=int(self.verbose),
        )
        Xs = self._standardise(X3)
        with torch_settings(seed, self._threads()):
            net.fit(Xs, y_enc)
        self.net_ = net
        self.n_iter_ = len(net.history)
        if valid.any() and self.n_iter_ > 1:
            best = [row["epoch"] for row in net.history if row.get("valid_loss_best")]
            if best and best[-1] == 1:
                warnings.warn(
                    f"{name}: early stopping kept the weights of the first training pass "
                    f"(the validation loss never improved in {self.n_iter_ - 1} more "
                    "passes), so the network has barely learned. Try a smaller 'lr', a "
                    "larger 'patience', more training data, or validation_fraction=0.",
                    ConvergenceWarning, stacklevel=2,
                )
        self.n_parameters_ = int(sum(p.numel() for p in net.module_.parameters()))
        logger.info(
            "%s: %d passes, %d parameters, %d validation epochs.",
            name, self.n_iter_, self.n_parameters_, self.n_validation_epochs_,
        )
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the logits), columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Raw epochs, channel by channel, or ``(n_epochs, n_channels, n_samples)``.

        Returns
        -------
        numpy.ndarray, shape (n_epochs, n_classes)
        """
        check_is_fitted(self, "net_")
        X3 = check_epochs(X, self.n_channels_, n_samples=self.n_samples_)
        with torch_settings(None, self._threads()):
            proba = np.asarray(self.net_.predict_proba(self._standardise(X3)), dtype=np.float64)
        if not np.isfinite(proba).all():
            bad = np.flatnonzero(~np.isfinite(proba).all(axis=1))
            raise ValueError(
                f"The network gave non-finite probabilities for {bad.size} epoch(s) (first: "
                f"{int(bad[0])}): their samples lie far outside the range seen in training. "
                "Check the units and gains of X."
            )
        return proba

    def predict(self, X) -> np.ndarray:
        """Most probable stage of each epoch, in the label values given to ``fit``.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Raw epochs, channel by channel, or ``(n_epochs, n_channels, n_samples)``.

        Returns
        -------
        numpy.ndarray, shape (n_epochs,)
        """
        proba = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def check_int(name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"The {name!r} parameter must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"The {name!r} parameter must be >= {minimum}, got {value!r}.")
    return int(value)
