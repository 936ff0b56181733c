"""The reference LSTM baseline as a scikit-learn classifier.

Each epoch is read as a sequence of ``n_samples`` time steps of ``n_channels`` values
(``(512, 3)`` for the rodent layout): an LSTM of 32 units returning sequences, a second LSTM
of 32 units whose last state feeds a dense layer over the classes. The reference Keras model
has 13 027 parameters; PyTorch keeps two bias vectors per LSTM gate (input-hidden and
hidden-hidden), so the same model has 13 283 parameters here::

    LSTM(3 -> 32)    4 * 32 * (3 + 32) + 2 * 4 * 32  =  4 736
    LSTM(32 -> 32)   4 * 32 * (32 + 32) + 2 * 4 * 32 =  8 448
    Linear(32 -> 3)  32 * 3 + 3                      =     99
                                                       13 283
"""

from __future__ import annotations

from ._torch import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMETERS,
    TorchClassifierBase,
    TorchModule,
    check_int,
    nn,
    require_torch,
)

__all__ = ["LSTMClassifier", "LSTMModule"]


class LSTMModule(TorchModule):
    """Stacked LSTM over the samples of an epoch, dense logits from the last state.

    Parameters
    ----------
    n_channels : int
        Input features per time step.
    n_classes : int
        Output logits.
    hidden_size : int
        Units of each LSTM layer.
    n_layers : int
        Stacked LSTM layers (all but the last return sequences).
    downsample : int
        Average this many consecutive samples before the LSTM (1 = every sample, as in the
        reference model). Adds no parameters.
    """

    def __init__(self, n_channels=3, n_classes=3, hidden_size=32, n_layers=2, downsample=1):
        super().__init__()
        self.pool = nn.AvgPool1d(downsample) if downsample > 1 else nn.Identity()
        self.lstm = nn.LSTM(n_channels, hidden_size, num_layers=n_layers, batch_first=True)
        self.dense = nn.Linear(hidden_size, n_classes)

    def forward(self, x):
        """Logits of a batch ``(batch, n_channels, n_samples)``."""
        sequence = self.pool(x).transpose(1, 2)  # (batch, time, channels)
        _, (hidden, _) = self.lstm(sequence)
        return self.dense(hidden[-1])


class LSTMClassifier(TorchClassifierBase):
    __doc__ = (
        """The reference 2-layer LSTM baseline (PyTorch, trained with skorch).

    Every epoch becomes a sequence of ``n_samples / downsample`` steps of ``n_channels``
    values (``(128, 3)`` for 3 channels x 4 s at 128 Hz with the default ``downsample=4``;
    ``(512, 3)`` in the reference model, ``downsample=1``), standardised per channel with
    the mean and standard deviation of the training data. Two stacked LSTMs of
    ``hidden_size`` units and a dense layer give logits, trained with a class-weighted
    cross-entropy and early stopping on held-out recordings.

    Requires the ``neural`` extra (``pip install 'sleepstage[neural]'``).

    Parameters
    ----------
    hidden_size : int, default=32
        Units of each LSTM layer.
    n_layers : int, default=2
        Stacked LSTM layers.
    downsample : int, default=4
        Average this many consecutive samples before the LSTM. 1 is the reference model
        (512 steps per 4-s epoch at 128 Hz), which learns slowly: trained on 2 h of one
        synthetic mouse it stays below 0.6 balanced accuracy on another mouse after 6
        passes. 4 (128 steps) trains about 8 times faster on CPU, keeps content below
        16 Hz at 128 Hz sampling and passes 0.6 within 10 passes."""
        + COMMON_PARAMETERS
        + """

    Attributes
    ----------"""
        + COMMON_ATTRIBUTES
        + """
    n_parameters_ : int
        Trainable parameters (13 283 for the reference 3-channel, 3-class model).
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.module_`` is the :class:`LSTMModule`.

    Examples
    --------
    >>> import numpy as np
    >>> from sleepstage.models import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3 * 64)).astype("float32")
    >>> y = np.repeat(["WAKE", "NREM"], 20)
    >>> clf = LSTMClassifier(max_epochs=1, verbose=0, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape, clf.n_parameters_
    ((2,), 13250)
    """
    )

    def __init__(
        self,
        *,
        hidden_size=32,
        n_layers=2,
        downsample=4,
        n_channels=3,
        max_epochs=30,
        batch_size=128,
        lr=3e-3,
        optimizer="adam",
        patience=5,
        grad_clip=1.0,
        validation_fraction=0.2,
        class_weight="balanced",
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=1,
    ):
        require_torch(type(self).__name__)
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.downsample = downsample
        self.n_channels = n_channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.patience = patience
        self.grad_clip = grad_clip
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def _module_class(self) -> type:
        return LSTMModule

    def _module_params(self, n_channels: int, n_samples: int, n_classes: int) -> dict:
        downsample = check_int("downsample", self.downsample)
        if downsample > n_samples:
            raise ValueError(
                f"The 'downsample' parameter ({downsample}) exceeds the {n_samples} samples "
                "per epoch."
            )
        return {
            "n_channels": n_channels,
            "n_classes": n_classes,
            "hidden_size": check_int("hidden_size", self.hidden_size),
            "n_layers": check_int("n_layers", self.n_layers),
            "downsample": downsample,
        }
