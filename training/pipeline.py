"""The training run, step by step: data -> split -> fit -> select -> export -> report.

train.py parses the command line; this module does the work, so that tests and benchmarks
can call `run` with a Namespace and no subprocess.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from training.architectures import ARCHITECTURES
from training.audit import audit
from training.data import (
    DataError,
    ImageRecord,
    class_counts,
    grouped_split,
    held_out_dir,
    labels_of,
    open_image,
    read_split,
    split_summary,
    to_tensors,
    train_dir,
)
from training.evaluate import (
    BASELINE_DESCRIPTION,
    THRESHOLD_RULE,
    ShortcutBaseline,
    choose_threshold,
    classification_metrics,
    evaluate_split,
)
from training.export import (
    PREPROCESSING,
    install,
    metadata,
    staging_dir,
    tflite_predictor,
    to_tflite,
    write_model_dir,
)
from training.fit import FitOptions, FitResult, fit
from training.models import ArchitectureError
from training.reporting import export_reports

PREPROCESSING_NAME = PREPROCESSING["name"]
KERAS_FILE = "cervical_fracture.keras"


def say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, flush=True)


def decode(records: list[ImageRecord]):
    return [open_image(r.path) for r in records]


def better_candidate(a: dict, b: dict | None, select: str) -> bool:
    """Architecture choice on validation: loss (or AUC), the other as tie-break, then order."""
    if b is None:
        return True
    if select == "loss":
        keys = [(b["loss"] - a["loss"]), ((a["roc_auc"] or 0) - (b["roc_auc"] or 0))]
    else:
        keys = [((a["roc_auc"] or 0) - (b["roc_auc"] or 0)), (b["loss"] - a["loss"])]
    for key in keys:
        if abs(key) > 1e-4:
            return key > 0
    return False


def data_summary(records: list[ImageRecord], test_records: list[ImageRecord], root: Path) -> dict:
    def counts(rs: list[ImageRecord]) -> dict:
        return class_counts(rs) | {"base_slices": len({r.base_slice for r in rs})}

    return {
        "source": "Kaggle 'Spine Fracture Prediction from C.T.' layout",
        "root": root.name,
        "train_folder": counts(records),
        "test_split": counts(test_records) if test_records else None,
    }


def run(args: argparse.Namespace) -> dict:
    """Do the whole run; return the model.json document that was installed."""
    quiet = args.quiet
    if args.download:
        from training.download import fetch_dataset

        root = fetch_dataset()
    else:
        root = Path(args.root)
    records = read_split(train_dir(root))
    test_root = held_out_dir(root, args.test_dir)
    test_records = read_split(test_root) if test_root else []
    train, validation = grouped_split(records, args.validation_fraction, args.seed)
    size = (args.size, args.size)
    say(
        f"data: {len(train)} train / {len(validation)} validation images "
        f"({len({r.base_slice for r in train})} / {len({r.base_slice for r in validation})} "
        f"base slices), {len(test_records)} test images; decoding...",
        quiet,
    )
    train_images, validation_images = decode(train), decode(validation)
    test_images = decode(test_records)
    train_tensors = to_tensors(train_images, PREPROCESSING_NAME, size)
    validation_tensors = to_tensors(validation_images, PREPROCESSING_NAME, size)
    y_train, y_validation = labels_of(train), labels_of(validation)
    y_test = labels_of(test_records)

    options = FitOptions.from_args(args, quiet=quiet)
    architectures = list(ARCHITECTURES) if args.arch == "all" else [args.arch]
    candidates: dict[str, dict] = {}
    results: dict[str, FitResult] = {}
    chosen: str | None = None
    for arch in architectures:
        say(f"== {arch}: fitting up to {options.epochs} epochs", quiet)
        try:
            result = fit(
                arch,
                size,
                train_images,
                train_tensors,
                y_train,
                (validation_tensors, y_validation),
                options,
                PREPROCESSING_NAME,
            )
        except ArchitectureError as exc:
            raise DataError(str(exc)) from exc
        probabilities = result.model.predict(validation_tensors, batch_size=64, verbose=0).ravel()
        scores = classification_metrics(y_validation, probabilities, 0.5)
        candidates[arch] = {
            "best_epoch": result.best_epoch,
            "seconds_per_epoch": round(result.seconds_per_epoch, 2),
            "parameters": int(result.model.count_params()),
            "validation": scores,
            "_probabilities": probabilities,
        }
        results[arch] = result
        say(
            f"== {arch}: best epoch {result.best_epoch}, val loss {scores['loss']:.4f}, "
            f"acc {scores['accuracy']:.4f}, auc {scores['roc_auc']}",
            quiet,
        )
        if better_candidate(
            scores, candidates[chosen]["validation"] if chosen else None, args.select
        ):
            chosen = arch
    assert chosen is not None
    result = results[chosen]
    validation_keras = candidates[chosen]["_probabilities"]
    threshold = choose_threshold(y_validation, validation_keras)
    model = result.model
    final_fit = {"on": "train split only", "epochs": result.best_epoch}
    if args.final_fit == "all":
        say(f"== {chosen}: refitting on train+validation for {result.best_epoch} epochs", quiet)
        schedule = result.history.get("learning_rate", [])[: result.best_epoch] or None
        refit_options = FitOptions(
            **{**options.__dict__, "epochs": result.best_epoch, "schedule": schedule}
        )
        all_images = train_images + validation_images
        all_tensors = np.concatenate([train_tensors, validation_tensors])
        refit = fit(
            chosen,
            size,
            all_images,
            all_tensors,
            np.concatenate([y_train, y_validation]),
            None,
            refit_options,
            PREPROCESSING_NAME,
        )
        model = refit.model
        final_fit = {
            "on": "train + validation (epochs, learning-rate schedule and threshold chosen "
            "on validation before the refit)",
            "epochs": result.best_epoch,
            "learning_rates": schedule,
        }

    out = Path(args.out)
    staging = staging_dir(out)
    try:
        say(f"== export: {chosen}, quantization {args.quantize}", quiet)
        flatbuffer = to_tflite(model, size, args.quantize)
        # The Keras model too, for re-export in other quantizations (bench.training);
        # the Lambda image copies only the .tflite and model.json.
        model.save(staging / KERAS_FILE)
        base = {
            "quantize": args.quantize,
            "size": size,
            "architecture": chosen,
            "threshold": threshold,
            "threshold_rule": THRESHOLD_RULE,
            "classes": sorted({r.class_name for r in records}),
        }
        write_model_dir(staging, flatbuffer, metadata(sha256="", extra={}, **base))
        predict = tflite_predictor(staging)
        started = time.perf_counter()
        validation_tflite = predict(validation_images)
        latency_ms = 1000 * (time.perf_counter() - started) / max(1, len(validation_images))
        export_check = None
        if args.final_fit == "train":
            export_check = float(np.max(np.abs(validation_tflite - validation_keras)))
        groups_validation = [r.base_slice for r in validation]
        metrics = {
            "validation": evaluate_split(
                y_validation, validation_tflite, groups_validation, threshold
            ),
            "note": "computed on the exported .tflite through inference/ (the serving path)",
        }
        if args.final_fit == "all":
            metrics["note"] += (
                "; validation was seen by the refit, so its figures are optimistic: "
                "validation_before_refit holds the held-out figures of the model trained on the "
                "train split only (Keras, same preprocessing)"
            )
            metrics["validation_before_refit"] = evaluate_split(
                y_validation, validation_keras, groups_validation, threshold
            )
        baseline_model = ShortcutBaseline(args.seed).fit(train_images, y_train)
        baseline = {
            "description": BASELINE_DESCRIPTION,
            "validation": evaluate_split(
                y_validation,
                baseline_model.fracture_probability(validation_images),
                groups_validation,
                0.5,
            ),
        }
        if test_records:
            groups_test = [r.base_slice for r in test_records]
            test_tflite = predict(test_images)
            metrics["test"] = evaluate_split(y_test, test_tflite, groups_test, threshold)
            baseline["test"] = evaluate_split(
                y_test, baseline_model.fracture_probability(test_images), groups_test, 0.5
            )
        for entry in candidates.values():
            entry.pop("_probabilities", None)
        splits = {"train": train, "validation": validation}
        if test_records:
            splits["test"] = test_records
        leakage = audit(splits)
        for pair in leakage["cross_split"]:
            if pair["leakage"]:
                print(
                    f"warning: leakage between {' and '.join(pair['splits'])}: "
                    f"{len(pair['shared_base_slices'])} shared base slices, "
                    f"{pair['exact_duplicates']} identical files; their figures are optimistic",
                    file=sys.stderr,
                )
        for pair in leakage["cross_split"]:
            pair.pop("near_duplicate_examples", None)
            pair["near_duplicate_base_slices"] = len(pair["near_duplicate_base_slices"])
        extra = {
            "data": {**data_summary(records, test_records, root), "audit": leakage},
            "split": split_summary(train, validation, args.seed),
            "metrics": metrics,
            "baseline": baseline,
            "training": {
                "recipe": {
                    k: v for k, v in options.__dict__.items() if k not in ("quiet", "schedule")
                },
                "selection": f"best epoch and architecture by validation {args.select}, "
                "the other criterion as tie-break (1e-4), then the earlier epoch",
                "final_fit": final_fit,
                "candidates": candidates,
                "keras_vs_tflite_max_abs_diff": export_check,
                "tflite_latency_ms_per_image_1_thread": round(latency_ms, 3),
            },
        }
        extra.update(
            export_reports(
                args=args,
                root=root,
                staging=staging,
                predict=predict,
                history=result.history,
                validation_images=validation_images,
                y_validation=y_validation,
                validation_probabilities=validation_tflite,
                threshold=threshold,
                test=(y_test, test_tflite, metrics["test"]) if test_records else None,
            )
        )
        document = write_model_dir(staging, flatbuffer, metadata(sha256="", extra=extra, **base))
        from training.model_card import write_model_card

        write_model_card(staging, document)
        install(staging, out)
    finally:
        if staging.exists():
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
    summary = metrics["validation"]["per_image"]
    say(
        f"done: {chosen} -> {out}  validation acc {summary['accuracy']:.4f} "
        f"sensitivity {summary['recall']:.4f} auc {summary['roc_auc']} threshold {threshold:.3f}",
        False,
    )
    return document
