"""Training-time perturbations, applied to decoded PIL images before the serving preprocessing.

Perturbing the PIL image (not the tensor) lets the model see what serving will see when a
slice was re-saved as JPEG, rotated a little, windowed brighter or darker, noisy, or sent at
512x512: each perturbed image goes through inference.preprocessing.image_to_tensor like a
request would. The ranges cover those of the robustness report (issue 6) with some margin.
"""

from __future__ import annotations

import io

import keras
import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from inference.preprocessing import image_to_tensor


def perturb(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One random, label-preserving variant of a slice."""
    image = image.convert("L")
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    if rng.random() < 0.8:
        # Rotation about a slightly shifted centre, with a small zoom: the field of view
        # is black outside, so black fill is what a real slice shows.
        angle = float(rng.uniform(-15, 15))
        scale = float(rng.uniform(0.9, 1.1))
        width, height = image.size
        shift = rng.uniform(-0.05, 0.05, 2) * (width, height)
        image = image.rotate(
            angle, resample=Image.BILINEAR, translate=tuple(float(s) for s in shift), fillcolor=0
        )
        if abs(scale - 1) > 1e-3:
            crop = round(width / scale)
            left = (width - crop) // 2
            image = image.crop((left, left, left + crop, left + crop)).resize(
                (width, height), Image.BILINEAR
            )
    if rng.random() < 0.7:
        image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.8, 1.2)))
        image = ImageEnhance.Contrast(image).enhance(float(rng.uniform(0.8, 1.2)))
    if rng.random() < 0.4:
        side = int(rng.choice([224, 256, 384, 512]))
        image = image.resize((side, side), Image.BILINEAR)
    if rng.random() < 0.4:
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + rng.normal(0, rng.uniform(2, 8), pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(35, 95)))
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
    return image.convert("RGB") if rng.random() < 0.5 else image


class AugmentedSlices(keras.utils.PyDataset):
    """Batches of freshly perturbed serving tensors, reshuffled every epoch, seeded."""

    def __init__(
        self,
        images: list[Image.Image],
        labels: np.ndarray,
        preprocessing: str,
        size: tuple[int, int],
        batch_size: int,
        seed: int,
    ):
        super().__init__()
        self.images = images
        self.labels = labels.astype(np.float32)
        self.preprocessing = preprocessing
        self.size = size
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(images))

    def __len__(self) -> int:
        return int(np.ceil(len(self.images) / self.batch_size))

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        tensors = np.concatenate(
            [
                image_to_tensor(perturb(self.images[i], self.rng), self.preprocessing, self.size)
                for i in batch
            ]
        )
        return tensors, self.labels[batch]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.images))


class PlainSlices(keras.utils.PyDataset):
    """The preloaded clean tensors, shuffled every epoch: training without augmentation."""

    def __init__(self, tensors: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
        super().__init__()
        self.tensors = tensors
        self.labels = labels.astype(np.float32)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(tensors))

    def __len__(self) -> int:
        return int(np.ceil(len(self.tensors) / self.batch_size))

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.tensors[batch], self.labels[batch]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.tensors))
