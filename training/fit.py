"""Fit one architecture and keep the epoch that validation prefers.

Validation accuracy saturates on this dataset within a few epochs (0.985-1.0), so "best by
val_accuracy" keeps an early, unconfident model. The best epoch here is the one with the
lowest validation loss (or highest validation AUC with `--select auc`); ties (within 1e-4)
go to the other criterion, then to the earlier epoch.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field, fields

import keras
import numpy as np
from PIL import Image

from training.augment import AugmentedSlices, PlainSlices
from training.models import build_model

TIE = 1e-4


@dataclass
class FitOptions:
    """The recipe. Defaults reproduce the original project: SGD, BCE, batch 16, 20 epochs."""

    epochs: int = 20
    batch_size: int = 16
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.9
    select: str = "loss"  # or "auc"
    patience: int = 0  # early stopping patience in epochs; 0 = off
    augment: bool = False
    weights: str = "none"
    seed: int = 0
    quiet: bool = False
    # Learning rate per epoch to replay (a refit without validation repeats the schedule
    # that ReduceLROnPlateau made on the selection run); None = the plateau rule.
    schedule: list[float] | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, **overrides) -> FitOptions:
        """The recipe a CLI's parsed arguments name; fields a CLI lacks keep their defaults."""
        named = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
        return cls(**(named | overrides))


@dataclass
class FitResult:
    model: keras.Model
    best_epoch: int  # 1-based
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds_per_epoch: float = 0.0


def _better(candidate: tuple[float, float], best: tuple[float, float] | None, select: str) -> bool:
    """(val_loss, val_auc) ordering: primary criterion, then the other; ties keep the earlier."""
    if best is None:
        return True
    loss, auc = candidate
    best_loss, best_auc = best
    primary = (
        (best_loss - loss, auc - best_auc)
        if select == "loss"
        else (auc - best_auc, best_loss - loss)
    )
    if abs(primary[0]) > TIE:
        return primary[0] > 0
    return primary[1] > TIE


class BestEpoch(keras.callbacks.Callback):
    """Remember the weights of the best epoch; restore them when training ends."""

    def __init__(self, select: str):
        super().__init__()
        self.select = select
        self.best: tuple[float, float] | None = None
        self.best_epoch = 0
        self.weights = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        score = (float(logs.get("val_loss", math.inf)), float(logs.get("val_auc", 0.0)))
        if _better(score, self.best, self.select):
            self.best, self.best_epoch = score, epoch + 1
            self.weights = self.model.get_weights()

    def on_train_end(self, logs=None) -> None:
        if self.weights is not None:
            self.model.set_weights(self.weights)


class EpochLine(keras.callbacks.Callback):
    """One line per epoch: the figures that matter, readable in a log."""

    def __init__(self, name: str, epochs: int):
        super().__init__()
        self.name, self.epochs = name, epochs
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items()}
        nan = float("nan")
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        validation = (
            f"| val_loss {logs['val_loss']:.4f} val_acc {logs.get('val_accuracy', nan):.4f} "
            f"val_auc {logs.get('val_auc', nan):.4f} "
            if "val_loss" in logs
            else ""
        )
        print(
            # A new line first: Keras's progress bar has not ended its line yet.
            f"\n[{self.name}] epoch {epoch + 1}/{self.epochs} "
            f"loss {logs.get('loss', nan):.4f} acc {logs.get('accuracy', nan):.4f} "
            f"{validation}| lr {learning_rate:.2g} | {time.perf_counter() - self.started:.1f}s",
            flush=True,
        )


def make_optimizer(options: FitOptions) -> keras.optimizers.Optimizer:
    if options.optimizer == "sgd":
        return keras.optimizers.SGD(options.learning_rate, momentum=options.momentum)
    if options.optimizer == "adam":
        return keras.optimizers.Adam(options.learning_rate)
    raise ValueError(f"unknown optimizer {options.optimizer!r}")


def fit(
    arch: str,
    size: tuple[int, int],
    train_images: list[Image.Image],
    train_tensors: np.ndarray,
    train_labels: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None,
    options: FitOptions,
    preprocessing: str = "xception",
) -> FitResult:
    """Train `arch`; with validation, keep its best epoch, else keep the last epoch."""
    keras.utils.set_random_seed(options.seed)
    model = build_model(arch, size, options.weights)
    model.compile(
        optimizer=make_optimizer(options),
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    if options.augment:
        batches = AugmentedSlices(
            train_images, train_labels, preprocessing, size, options.batch_size, options.seed
        )
    else:
        batches = PlainSlices(train_tensors, train_labels, options.batch_size, options.seed)
    callbacks: list[keras.callbacks.Callback] = []
    best = BestEpoch(options.select)
    if validation is not None:
        monitor = "val_loss" if options.select == "loss" else "val_auc"
        mode = "min" if options.select == "loss" else "max"
        callbacks += [
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5, verbose=0
            ),
            best,
        ]
        if options.patience > 0:
            callbacks.append(
                keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=options.patience)
            )
    if options.schedule:
        schedule = list(options.schedule)
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda epoch, _: float(schedule[min(epoch, len(schedule) - 1)])
            )
        )
    if not options.quiet:
        callbacks.append(EpochLine(arch, options.epochs))
    started = time.perf_counter()
    history = model.fit(
        batches,
        validation_data=validation,
        validation_batch_size=64,
        epochs=options.epochs,
        callbacks=callbacks,
        verbose=0 if options.quiet else 1,
    )
    elapsed = time.perf_counter() - started
    epochs_run = len(history.history.get("loss", [])) or 1
    best_epoch = best.best_epoch if validation is not None else epochs_run
    return FitResult(
        model=model,
        best_epoch=best_epoch,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        seconds_per_epoch=elapsed / epochs_run,
    )
