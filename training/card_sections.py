"""The sections of MODEL_CARD.md that need more than a line: tables and summaries.

model_card.py lays out the card; these functions turn one model.json section each into text.
"""

from __future__ import annotations


def number(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval(split: dict, key: str) -> str:
    bounds = split.get("intervals_95", {}).get(key)
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""


def metrics_table(rows: list[tuple[str, dict]]) -> str:
    """One row per (label, evaluate_split result): per-image figures with 95% intervals."""
    lines = [
        "| model / split | images (slices) | accuracy | sensitivity | specificity | F1 | ROC AUC "
        "| loss | per-slice accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, split in rows:
        image = split["per_image"]
        slices = split["per_base_slice"]
        lines.append(
            f"| {label} | {image['n']} ({split['base_slices']}) "
            f"| {number(image['accuracy'])} {interval(split, 'accuracy')} "
            f"| {number(image['recall'])} {interval(split, 'recall')} "
            f"| {number(image['specificity'])} {interval(split, 'specificity')} "
            f"| {number(image['f1'])} | {number(image['roc_auc'])} {interval(split, 'roc_auc')} "
            f"| {number(image['loss'])} | {number(slices['accuracy'])} |"
        )
    return "\n".join(lines)


def confusion_line(split: dict | None) -> str:
    if not split:
        return "n/a"
    c = split["per_image"]["confusion"]
    return f"TP {c['tp']}, FN {c['fn']}, TN {c['tn']}, FP {c['fp']}"


ARCHITECTURE_NAMES = {
    "custom": "The original project's CNN (`custom`: two strided convolutions, Flatten, Dense 64)",
    "slicenet": "A small separable-convolution network of this project (`slicenet`)",
    "xception": "Xception (keras.applications) with a one-unit sigmoid head",
    "inception_v3": "InceptionV3 (keras.applications) with a one-unit sigmoid head",
    "resnet50v2": "ResNet50V2 (keras.applications) with a one-unit sigmoid head",
}


def architecture(name: str) -> str:
    return ARCHITECTURE_NAMES.get(name, f"A `{name}` convolutional network")


def perfect_note(metrics: dict) -> str:
    """A perfect score on few slices has a degenerate bootstrap interval; say what it means."""
    notes = []
    for name, split in metrics.items():
        if name == "validation" and "validation_before_refit" in metrics:
            continue  # seen by the refit: its perfect score says nothing
        if isinstance(split, dict) and split.get("per_image", {}).get("accuracy") == 1.0:
            slices = split["base_slices"]
            notes.append(
                f"{name.replace('_', ' ')}: no error on {slices} base slices, so its bootstrap "
                f"interval collapses to [1, 1]; by the rule of three the per-slice error rate "
                f"could still be up to {3 / slices:.0%} (95%)"
            )
    return ("Perfect scores: " + "; ".join(notes) + ".") if notes else ""


def audit_line(report: dict) -> str:
    if not report:
        return "not run."
    pairs = "; ".join(
        f"{' / '.join(c['splits'])}: {len(c['shared_base_slices'])} shared base slices, "
        f"{c['exact_duplicates']} exact duplicates, {c['near_duplicate_pairs']} near-duplicate "
        f"pairs (pHash distance <= {report.get('near_duplicate_distance')})"
        for c in report.get("cross_split", [])
    )
    verdict = "leakage found" if report.get("leakage") else "no leakage (no shared slice or file)"
    return (
        f"{verdict}; {pairs}. Near-duplicates across a clean grouped split are neighbouring "
        "slices of one series: the splits are less independent than their names suggest."
    )


def robustness_table(report: dict) -> str:
    if not report:
        return "Not computed in this run (training/robustness.py unavailable)."
    rows = report.get("perturbations") or report.get("rows")
    if isinstance(rows, dict):
        lines = [
            "| condition | accuracy | sensitivity | accuracy drop (points) |",
            "|---|---|---|---|",
        ]
        for name, row in rows.items():
            lines.append(
                f"| {name} | {number(row.get('accuracy'))} | {number(row.get('sensitivity'))} "
                f"| {number(row.get('accuracy_drop'), 2)} |"
            )
        return "\n".join(lines)
    return "```json\n" + __import__("json").dumps(report, indent=1)[:4000] + "\n```"


def gate_line(gate: dict) -> str:
    if not gate:
        return "Not fitted in this run (training/gate.py unavailable or --no-gate)."
    parts = []
    for key, value in (gate.get("validation") or {}).items():
        if isinstance(value, dict) and "refused" in value:
            parts.append(f"{key.replace('_', ' ')}: {value['refused']} of {value.get('count')}")
        elif not isinstance(value, dict | list):
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return (
        "Thresholds in `model.json` (`input_gate`), fitted by training/gate.py on the training "
        "folder's slices. Its own validation figures (held-out real slices, generated and "
        f"packaged non-CT images): {'; '.join(parts) or 'see model.json'}."
    )


def crossval_summary(report: dict) -> dict:
    """The part of a training/crossval.py report that model.json keeps."""
    keys = ("accuracy", "recall", "specificity", "roc_auc", "loss")
    return {
        "recipe": {
            k: report["recipe"].get(k)
            for k in ("arch", "folds", "epochs", "optimizer", "learning_rate", "augment", "seed")
        },
        "folds": [
            {
                "fold": row["fold"],
                "best_epoch": row["best_epoch"],
                "model": {k: row["model"][k] for k in keys},
                "baseline": {k: row["baseline"][k] for k in keys},
            }
            for row in report["folds"]
        ],
        "mean": report["mean"],
    }


def crossval_table(summary: dict) -> str:
    if not summary:
        return "Not run for this model (`training/crossval.py`)."
    rows = "\n".join(
        f"| {f['fold']} | {f['best_epoch']} | {number(f['model']['accuracy'])} "
        f"| {number(f['model']['recall'])} | {number(f['model']['loss'])} "
        f"| {number(f['baseline']['accuracy'])} | {number(f['baseline']['recall'])} |"
        for f in summary["folds"]
    )
    recipe, mean = summary["recipe"], summary["mean"]
    return (
        f"Grouped {recipe['folds']}-fold cross-validation of the recipe ({recipe['arch']}, "
        f"{recipe['optimizer']} {recipe['learning_rate']}, augmentation "
        f"{'on' if recipe['augment'] else 'off'}, up to {recipe['epochs']} epochs): every base "
        "slice of the training folder is held out once. Threshold 0.5, Keras model.\n\n"
        "| fold | best epoch | accuracy | sensitivity | loss | baseline accuracy "
        "| baseline sensitivity |\n|---|---|---|---|---|---|---|\n"
        + rows
        + f"\n| mean | | {number(mean['model']['accuracy'])} | {number(mean['model']['recall'])} "
        f"| {number(mean['model']['loss'])} | {number(mean['baseline']['accuracy'])} "
        f"| {number(mean['baseline']['recall'])} |"
    )
