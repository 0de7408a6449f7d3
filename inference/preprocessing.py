"""The one preprocessing, shared by training and serving.

A decoded PIL image becomes the model's input tensor through the keras-image-helper
preprocessor that model.json names (RGB, nearest resize to the model's input size, then
that family's scaling). Training builds its arrays with this very function, so the model
is trained on exactly the tensors the Lambda function feeds it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from keras_image_helper import create_preprocessor
from PIL import Image


@lru_cache(maxsize=8)
def _preprocessor(name: str, width: int, height: int):
    return create_preprocessor(name, target_size=(width, height))


def image_to_tensor(image: Image.Image, name: str, size: tuple[int, int]) -> np.ndarray:
    """Return a float32 batch of one, shape (1, height, width, 3), for `image`.

    `size` is (height, width) as in the model's input shape; keras-image-helper takes
    (width, height), the order PIL uses.
    """
    height, width = size
    tensor = _preprocessor(name, width, height).convert_to_tensor(image)
    return np.ascontiguousarray(tensor, dtype=np.float32)
