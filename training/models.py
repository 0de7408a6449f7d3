"""The architectures `--arch` can name, each ending in one sigmoid: P(fracture).

- `custom`: the original project's CNN (Conv2D 64 and 32, 3x3, stride 2, ReLU; Dropout 0.2;
  BatchNormalization; MaxPool2D; Flatten; Dense 64 ReLU; Dense 1 sigmoid), kept to reproduce
  its recipe.
- `xception`, `inception_v3`, `resnet50v2`: keras.applications bases + global average
  pooling + Dense 1 sigmoid, with or without ImageNet weights.
- `slicenet`: ours, sized for Lambda: strided separable convolutions and global pooling, a
  few tens of thousands of weights, a few milliseconds per image on one thread.

No augmentation or scaling layers live inside a model: the exported .tflite takes exactly the
tensor inference/preprocessing.py makes, nothing else.
"""

from __future__ import annotations

import keras
from keras import layers

from training.architectures import ARCHITECTURES

PRETRAINED = {
    "xception": "Xception",
    "inception_v3": "InceptionV3",
    "resnet50v2": "ResNet50V2",
}


MINIMUM_SIZE = {"xception": 71, "inception_v3": 75, "resnet50v2": 32}


class ArchitectureError(Exception):
    """The architecture cannot be built as asked; the message is the one line the user sees."""


class WeightsUnavailable(ArchitectureError):
    """ImageNet weights could not be fetched (no network or no cache)."""


def custom_cnn(size: tuple[int, int]) -> keras.Model:
    """The original project's CNN, layer for layer."""
    return keras.Sequential(
        [
            keras.Input((*size, 3)),
            layers.Conv2D(64, 3, strides=2, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPool2D(),
            layers.Dropout(0.2),
            layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPool2D(),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="custom",
    )


def slicenet(size: tuple[int, int]) -> keras.Model:
    """Small and fast: a strided stem, four separable stages, global pooling, one sigmoid.

    Stride-2 everywhere keeps the work at 224x224 near 40 MFLOPs; global pooling makes the
    head independent of the input size and of where in the field of view a structure sits,
    which helps with the rotated and shifted copies the dataset is made of. BatchNormalization
    momentum 0.9 (not 0.99): with ~50 steps per epoch the default moving statistics lag for
    several epochs and validation looks like chance while training is fine.
    """
    inputs = keras.Input((*size, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    for filters in (32, 64, 96, 128):
        x = layers.SeparableConv2D(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="slicenet")


def pretrained(arch: str, size: tuple[int, int], weights: str) -> keras.Model:
    """A keras.applications base + GlobalAveragePooling2D + Dense 1 sigmoid."""
    if min(size) < MINIMUM_SIZE[arch]:
        raise ArchitectureError(
            f"{arch} needs an input of at least {MINIMUM_SIZE[arch]}x{MINIMUM_SIZE[arch]}, "
            f"not {size[0]}x{size[1]}: use a larger --size"
        )
    application = getattr(keras.applications, PRETRAINED[arch])
    try:
        base = application(
            include_top=False,
            weights=None if weights == "none" else weights,
            input_shape=(*size, 3),
        )
    except Exception as exc:  # keras raises URLError, HTTPError or ValueError when offline
        if weights == "none":
            raise
        raise WeightsUnavailable(
            f"cannot load ImageNet weights for {arch} ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else 'download failed'}); "
            "use --weights none or put the weights file in ~/.keras/models"
        ) from exc
    inputs = keras.Input((*size, 3))
    x = base(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=arch)


def build_model(arch: str, size: tuple[int, int], weights: str = "none") -> keras.Model:
    """The named architecture for inputs of (height, width, 3)."""
    if arch == "custom":
        return custom_cnn(size)
    if arch == "slicenet":
        return slicenet(size)
    if arch in PRETRAINED:
        return pretrained(arch, size, weights)
    raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
