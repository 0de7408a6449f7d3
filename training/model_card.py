"""MODEL_CARD.md, generated from model.json so the card never disagrees with the metadata.

The card states the dataset's weaknesses and the shortcut baseline beside the model's own
figures on purpose: on this dataset a high score alone does not show that fractures are seen.
"""

from __future__ import annotations

from pathlib import Path

CARD_FILE = "MODEL_CARD.md"


def _number(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _interval(split: dict, key: str) -> str:
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
            f"| {_number(image['accuracy'])} {_interval(split, 'accuracy')} "
            f"| {_number(image['recall'])} {_interval(split, 'recall')} "
            f"| {_number(image['specificity'])} {_interval(split, 'specificity')} "
            f"| {_number(image['f1'])} | {_number(image['roc_auc'])} {_interval(split, 'roc_auc')} "
            f"| {_number(image['loss'])} | {_number(slices['accuracy'])} |"
        )
    return "\n".join(lines)


def _confusion(split: dict) -> str:
    c = split["per_image"]["confusion"]
    return f"TP {c['tp']}, FN {c['fn']}, TN {c['tn']}, FP {c['fp']}"


def render(document: dict) -> str:
    metrics, baseline = document.get("metrics", {}), document.get("baseline", {})
    split, data = document.get("split", {}), document.get("data", {})
    training = document.get("training", {})
    rows = []
    if "validation_before_refit" in metrics:
        rows.append(
            (
                f"**{document['architecture']}** before refit / validation (held out)",
                metrics["validation_before_refit"],
            )
        )
    for name in ("validation", "test"):
        if name in metrics:
            seen = (
                " (seen by refit)"
                if name == "validation" and "validation_before_refit" in (metrics)
                else ""
            )
            rows.append((f"**{document['architecture']}** / {name}{seen}", metrics[name]))
        if name in baseline:
            rows.append((f"shortcut baseline / {name}", baseline[name]))
    verdict = []
    for name in ("test", "validation_before_refit", "validation"):
        reference = "validation" if name == "validation_before_refit" else name
        if name in metrics and reference in baseline:
            ours, theirs = metrics[name]["per_image"], baseline[reference]["per_image"]
            pair = (
                (ours["accuracy"] or 0, ours["roc_auc"] or 0),
                (theirs["accuracy"] or 0, theirs["roc_auc"] or 0),
            )
            ahead = pair[0][0] > pair[1][0] and pair[0][1] >= pair[1][1]
            level = pair[0] == pair[1]
            verdict.append(
                f"On the {name.replace('_', ' ')} split the model is "
                + ("**ahead of**" if ahead else "**level with**" if level else "**not ahead of**")
                + f" the shortcut baseline (accuracy {_number(ours['accuracy'])} vs "
                f"{_number(theirs['accuracy'])}, AUC {_number(ours['roc_auc'])} vs "
                f"{_number(theirs['roc_auc'])})."
                + (
                    ""
                    if ahead
                    else " It has not shown that it sees more than the coarse "
                    "layout (anatomical level) the baseline sees."
                )
            )
            break
    train_side, validation_side = split.get("train", {}), split.get("validation", {})
    gate = document.get("input_gate") or {}
    robustness = document.get("robustness") or {}
    candidates = training.get("candidates", {})
    candidate_lines = "\n".join(
        f"| {arch} | {c['parameters']:,} | {c['best_epoch']} | {c['seconds_per_epoch']} "
        f"| {_number(c['validation']['loss'])} | {_number(c['validation']['accuracy'])} "
        f"| {_number(c['validation']['roc_auc'])} |"
        for arch, c in candidates.items()
    )
    test_note = (
        f"an independent test split of {data['test_split']['images']} images "
        f"({data['test_split']['base_slices']} base slices)"
        if data.get("test_split")
        else "no independent test split in this run (the project's test split is held "
        "elsewhere; figures below are validation only)"
    )
    final_fit = training.get("final_fit", {})
    return f"""# Model card: {document["name"]} {document["version"]}

_Generated by `training/train.py` on {document["created"]} from `model.json`; do not edit by
hand._

## What it is

A {document["architecture"]} convolutional network that reads one axial cervical-spine CT
slice (any size; resized to {document["input"]["size"][0]}x{document["input"]["size"][1]}
RGB, nearest neighbour, scaled x/127.5-1 by keras-image-helper "xception") and outputs
P(fracture). It answers "fracture" when P(fracture) >= **{document["threshold"]:.3f}**
({document["threshold_rule"]}). File `{document["file"]}` (TFLite, quantization
`{document["quantization"]}`, sha256 `{document["sha256"][:16]}...`), loadable with
ai-edge-litert and tflite-runtime 2.14.

## Intended use

Research and teaching: a decision-support prototype that shows how a slice classifier is
trained, validated and served. **It is not a diagnostic device**, is not cleared for clinical
use, and must not be used to rule a fracture in or out for a patient.

## Data

- Source: {data.get("source", "n/a")}; training folder
  {data.get("train_folder", {}).get("images", "n/a")} images,
  {data.get("train_folder", {}).get("base_slices", "n/a")} base slices; {test_note}.
- Split: {split.get("method", "n/a")}, seed {split.get("seed", "n/a")}:
  train {train_side.get("images", "n/a")} images ({len(train_side.get("base_slices", []))} slices),
  validation {validation_side.get("images", "n/a")} images
  ({len(validation_side.get("base_slices", []))} slices). Validation slices:
  {", ".join(validation_side.get("base_slices", []))}.
- Final fit: {final_fit.get("on", "n/a")}, {final_fit.get("epochs", "n/a")} epochs.
- Audit (`training/audit.py`): {_audit(data.get("audit") or {})}

## Results

Per image, with 95% bootstrap intervals that resample base slices (the ~21 copies of one
slice are not independent). The shortcut baseline ({baseline.get("description", "n/a")}) is
shown beside the model on every split, at threshold 0.5. Computed on the exported .tflite
through the serving code.

{metrics_table(rows)}

{" ".join(verdict)}

Confusion (validation): {_confusion(metrics["validation"]) if "validation" in metrics else "n/a"}.
{("Confusion (test): " + _confusion(metrics["test"]) + ".") if "test" in metrics else ""}
{metrics.get("note", "")}.

Architectures tried (validation at threshold 0.5, Keras model):

| architecture | parameters | best epoch | s/epoch | val loss | val accuracy | val AUC |
|---|---|---|---|---|---|---|
{candidate_lines}

Selection: {training.get("selection", "n/a")}.

## Robustness (issue 6)

{_robustness(robustness)}

## Input gate

{_gate(gate)}

## Weaknesses of the data (read before trusting any figure above)

- **Anatomical-level and series confound.** In this dataset "fracture" slices sit at the skull
  base (brain in view) and "normal" slices at the mid-cervical level; every "normal" image of
  the training folder is series CSFDV1B10, slices 100-134, while fracture images are slices
  1-19, mostly of CSFDV1B11/CSFDV1B12. A model can separate the classes by level alone without
  seeing any fracture; the shortcut baseline above measures how far that goes.
- **Augmented copies.** Every base slice appears ~21 times (rotated and sharpened copies, some
  byte-identical). Only {train_side.get("base_slices") and len(train_side["base_slices"])}
  distinct slices were trained on; intervals resample slices, not images.
- **Tiny test split.** The official test split has 10 base slices per class: its accuracy has a
  wide confidence interval, and a perfect score on it does not mean a perfect model.
- Not validated on other scanners, other patients, other levels of the spine, or on fractures
  at the mid-cervical level.

## Pictures

{", ".join(f"`{name}`" for name in document.get("figures", []))}
"""


def _audit(report: dict) -> str:
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


def _robustness(report: dict) -> str:
    if not report:
        return "Not computed in this run (training/robustness.py unavailable)."
    rows = report.get("perturbations") or report.get("rows")
    if isinstance(rows, dict):
        lines = ["| condition | accuracy | sensitivity | accuracy drop |", "|---|---|---|---|"]
        for name, row in rows.items():
            lines.append(
                f"| {name} | {_number(row.get('accuracy'))} | {_number(row.get('sensitivity'))} "
                f"| {_number(row.get('accuracy_drop'))} |"
            )
        return "\n".join(lines)
    return "```json\n" + __import__("json").dumps(report, indent=1)[:4000] + "\n```"


def _gate(gate: dict) -> str:
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


def write_model_card(model_dir: Path, document: dict) -> Path:
    path = Path(model_dir) / CARD_FILE
    path.write_text(render(document))
    return path


def main(argv: list[str] | None = None) -> int:
    """Re-render MODEL_CARD.md of a model folder from its model.json."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m training.model_card MODEL_DIR", file=sys.stderr)
        return 2
    try:
        document = json.loads((Path(args[0]) / "model.json").read_text())
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args[0]}/model.json: {exc}", file=sys.stderr)
        return 2
    print(write_model_card(Path(args[0]), document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
