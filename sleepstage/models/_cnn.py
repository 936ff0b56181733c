"""The reference 2-D convolutional baseline as a scikit-learn classifier.

An epoch is an image of ``n_channels`` rows by ``n_samples`` columns with one input plane,
``(batch, 1, channels, samples)`` in PyTorch. Temporal ``1 x k`` convolutions alternate with
spatial ``k x 1`` convolutions across channels and max-pooling; a convolution spanning all
that is left of the image and a ``1 x 1`` convolution give 3 values, and a dense layer maps
them to the class logits.

How the published 8-channel x 900-sample network comes to exactly 3 050 parameters
------------------------------------------------------------------------------------
The seven convolutions have 33 + 30 + 80 + 80 + 182 + 2 600 + 33 = 3 038 weights and biases
whatever the padding and pooling, with ``Conv 10@1x37`` seeing 7 input maps. The dense layer
then has the remaining 12 = 3 x 3 + 3 parameters, so it must read exactly 3 values: the
feature map after ``Conv 10@1x37`` is 1 x 1. Hence, for 8 x 900:

- rows: the spatial convolutions are "valid" (8 -> 6), the first pooling halves the rows
  (6 -> 3) and the second spatial convolution leaves one row (3 -> 1);
- columns: temporal convolutions are "same" (zero padding as Keras: ``(k - 1) // 2`` before,
  the rest after) and the three poolings divide the time axis by 2, 3 and 4 (floor):
  900 -> 450 -> 150 -> 37, which the ``1 x 37`` convolution reduces to 1;
- ReLU after every convolution except the last ``1 x 1`` one, whose 3 outputs feed the dense
  layer directly (a ReLU there can silence all three inputs of the classifier).

Any other ordering of the pool sizes 2, 3, 4 along time also gives 37 (and the same count);
the order is not recoverable from the parameter count. The ``"rodent"`` variant uses the
same poolings; its first spatial convolution spans all channels at once (``3 x 1`` for the
3-channel layout) and the convolution before the ``1 x 1`` one spans whatever time is left.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .._internal.validation import check_option
from ._torch import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMETERS,
    TorchClassifierBase,
    TorchModule,
    nn,
    require_torch,
)

__all__ = ["VARIANTS", "ConvLayer", "ConvNetClassifier", "ConvNetModule", "convnet_layers"]

VARIANTS: tuple[str, ...] = ("rodent", "paper")


@dataclass(frozen=True)
class ConvLayer:
    """One layer of the network and the shape of its output.

    ``kind`` is ``"conv"`` (``filters`` maps, ``kernel`` rows x columns, ``same`` padding
    along time, ``relu`` activation) or ``"pool"`` (max-pooling with ``kernel`` as size and
    stride, floor mode) or ``"dense"``; ``shape`` is ``(maps, rows, columns)`` after it.
    """

    name: str
    kind: str
    filters: int
    kernel: tuple[int, int]
    same: bool
    relu: bool
    shape: tuple[int, int, int]
    n_params: int


def convnet_layers(
    variant: str, n_channels: int, n_samples: int, n_classes: int = 3
) -> list[ConvLayer]:
    """Resolve the layers of a variant for one input size; no PyTorch needed.

    Parameters
    ----------
    variant : {"rodent", "paper"}
        Architecture.
    n_channels, n_samples : int
        Input image size (rows, columns).
    n_classes : int
        Outputs of the dense layer.

    Returns
    -------
    list of ConvLayer
        Layers in order, with output shapes and parameter counts.

    Raises
    ------
    ValueError
        If the input is too small for the variant.

    Examples
    --------
    >>> sum(layer.n_params for layer in convnet_layers("paper", 8, 900))
    3050
    >>> [layer.kernel for layer in convnet_layers("paper", 8, 900) if layer.name == "conv6"]
    [(1, 37)]
    """
    check_option("variant", variant, VARIANTS)
    if variant == "paper" and n_channels < 8:
        raise ValueError(
            f"variant='paper' needs at least 8 channels (the published network takes 8 x 900 "
            f"epochs), but the data have {n_channels}. Use variant='rodent' or set n_channels."
        )
    if n_samples < 24:
        raise ValueError(
            f"The convolutional network pools time by 2 x 3 x 4 = 24, so it needs at least 24 "
            f"samples per epoch, but got {n_samples}."
        )
    spatial = 3 if variant == "paper" else n_channels
    second_spatial = 3 if variant == "paper" else 1
    first_pool_rows = 2 if variant == "paper" else 1
    kernel_t = 5 if variant == "paper" else 4
    plan = [
        ("conv1", "conv", 3, (1, 10)),
        ("conv2", "conv", 3, (spatial, 1)),
        ("pool1", "pool", 0, (first_pool_rows, 2)),
        ("conv3", "conv", 5, (1, kernel_t)),
        ("conv4", "conv", 5, (second_spatial, 1)),
        ("pool2", "pool", 0, (1, 3)),
        ("conv5", "conv", 7, (1, kernel_t)),
        ("pool3", "pool", 0, (1, 4)),
        ("conv6", "conv", 10, None),  # spans the rest of the image
        ("conv7", "conv", 3, (1, 1)),
    ]
    maps, rows, cols = 1, n_channels, n_samples
    layers: list[ConvLayer] = []
    for name, kind, filters, kernel in plan:
        if kernel is None:
            kernel = (rows, cols)
        if kind == "pool":
            rows, cols = rows // kernel[0], cols // kernel[1]
            n_params, same, relu = 0, False, False
        else:
            same = kernel[0] == 1 and kernel[1] > 1 and name != "conv6"
            rows = rows - kernel[0] + 1
            cols = cols if same else cols - kernel[1] + 1
            n_params = maps * kernel[0] * kernel[1] * filters + filters
            maps, relu = filters, name != "conv7"
        if rows < 1 or cols < 1:
            raise ValueError(
                f"A {n_channels} x {n_samples} epoch is too small for variant={variant!r}: "
                f"nothing is left after layer {name}."
            )
        layers.append(ConvLayer(name, kind, filters, kernel, same, relu, (maps, rows, cols),
                                n_params))
    n_inputs = maps * rows * cols
    layers.append(ConvLayer("dense", "dense", n_classes, (n_inputs, n_classes), False, False,
                            (n_classes, 1, 1), n_inputs * n_classes + n_classes))
    return layers


class ConvNetModule(TorchModule):
    """The network of :func:`convnet_layers` as a torch module.

    Parameters
    ----------
    n_channels, n_samples : int
        Input size.
    n_classes : int
        Output logits.
    variant : {"rodent", "paper"}
        Architecture.
    """

    def __init__(self, n_channels=3, n_samples=512, n_classes=3, variant="rodent"):
        super().__init__()
        layers = convnet_layers(variant, n_channels, n_samples, n_classes)
        blocks: OrderedDict = OrderedDict()
        in_maps = 1
        for layer in layers[:-1]:
            if layer.kind == "pool":
                blocks[layer.name] = nn.MaxPool2d(layer.kernel)
                continue
            if layer.same:
                left = (layer.kernel[1] - 1) // 2
                blocks[f"{layer.name}_pad"] = nn.ZeroPad2d((left, layer.kernel[1] - 1 - left, 0, 0))
            blocks[layer.name] = nn.Conv2d(in_maps, layer.filters, layer.kernel)
            if layer.relu:
                blocks[f"{layer.name}_relu"] = nn.ReLU()
            in_maps = layer.filters
        self.features = nn.Sequential(blocks)
        self.dense = nn.Linear(layers[-1].kernel[0], n_classes)

    def forward(self, x):
        """Logits of a batch ``(batch, n_channels, n_samples)``."""
        return self.dense(self.features(x.unsqueeze(1)).flatten(1))


class ConvNetClassifier(TorchClassifierBase):
    __doc__ = (
        """The reference 2-D convolutional baseline (PyTorch, trained with skorch).

    Epochs are standardised per channel with the training mean and standard deviation and
    read as ``(1, n_channels, n_samples)`` images. Trained with a class-weighted cross-entropy
    on logits and early stopping on held-out recordings.

    ``variant="rodent"`` (3 x 512 epochs: 3 channels, 4 s at 128 Hz), 1 830 parameters:

    ======  ==================================  ==============  ======
    layer   operation                           output          params
    ======  ==================================  ==============  ======
    conv1   Conv 3@1x10, same, ReLU             3 x 3 x 512         33
    conv2   Conv 3@3x1 (all channels), ReLU     3 x 1 x 512         30
    pool1   MaxPool 1x2                         3 x 1 x 256          0
    conv3   Conv 5@1x4, same, ReLU              5 x 1 x 256         65
    conv4   Conv 5@1x1, ReLU                    5 x 1 x 256         30
    pool2   MaxPool 1x3                         5 x 1 x 85           0
    conv5   Conv 7@1x4, same, ReLU              7 x 1 x 85         147
    pool3   MaxPool 1x4                         7 x 1 x 21           0
    conv6   Conv 10@1x21 (rest of time), ReLU   10 x 1 x 1       1 480
    conv7   Conv 3@1x1                          3 x 1 x 1           33
    dense   Linear 3 -> 3 (logits)              3                   12
    ======  ==================================  ==============  ======

    ``variant="paper"`` (the published 8 x 900 network), exactly 3 050 parameters:

    ======  ==================================  ==============  ======
    layer   operation                           output          params
    ======  ==================================  ==============  ======
    conv1   Conv 3@1x10, same, ReLU             3 x 8 x 900         33
    conv2   Conv 3@3x1, valid, ReLU             3 x 6 x 900         30
    pool1   MaxPool 2x2                         3 x 3 x 450          0
    conv3   Conv 5@1x5, same, ReLU              5 x 3 x 450         80
    conv4   Conv 5@3x1, valid, ReLU             5 x 1 x 450         80
    pool2   MaxPool 1x3                         5 x 1 x 150          0
    conv5   Conv 7@1x5, same, ReLU              7 x 1 x 150        182
    pool3   MaxPool 1x4                         7 x 1 x 37           0
    conv6   Conv 10@1x37, ReLU                  10 x 1 x 1       2 600
    conv7   Conv 3@1x1                          3 x 1 x 1           33
    dense   Linear 3 -> 3 (logits)              3                   12
    ======  ==================================  ==============  ======

    Other input sizes keep the same layers; ``conv6`` always spans what is left of the image
    (see :func:`convnet_layers` and the module docstring for how the count was resolved).

    Requires the ``neural`` extra (``pip install 'sleepstage[neural]'``).

    Parameters
    ----------
    variant : {"rodent", "paper"}, default="rodent"
        Architecture; "paper" needs at least 8 channels."""
        + COMMON_PARAMETERS
        + """

    Attributes
    ----------"""
        + COMMON_ATTRIBUTES
        + """
    n_parameters_ : int
        Trainable parameters.
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.module_`` is the :class:`ConvNetModule`.

    Examples
    --------
    >>> import numpy as np
    >>> from sleepstage.models import ConvNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3, 512)).astype("float32")
    >>> y = np.repeat([1, 3], 20)
    >>> clf = ConvNetClassifier(max_epochs=1, verbose=0, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape, clf.n_parameters_
    ((2, 2), 1826)
    """
    )

    def __init__(
        self,
        *,
        variant="rodent",
        n_channels=3,
        max_epochs=30,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        patience=5,
        grad_clip=None,
        validation_fraction=0.2,
        class_weight="balanced",
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=1,
    ):
        require_torch(type(self).__name__)
        self.variant = variant
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
        return ConvNetModule

    def _module_params(self, n_channels: int, n_samples: int, n_classes: int) -> dict:
        convnet_layers(self.variant, n_channels, n_samples, n_classes)  # validates the size
        return {
            "n_channels": n_channels,
            "n_samples": n_samples,
            "n_classes": n_classes,
            "variant": self.variant,
        }
