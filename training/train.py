"""Train, select, evaluate and export the cervical-fracture model.

    python training/train.py ../shared/data/cervical-fracture --out model

Reads ROOT/train/{fracture,normal} (and ROOT/val or --test-dir as an independent test
split), splits train by base slice, fits each --arch, keeps the best on validation, exports
the .tflite through the serving code path and writes model.json, MODEL_CARD.md and pictures.
Every bad input ends with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# TensorFlow's C++ start-up chatter would bury the one line a bad input deserves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.architectures import ARCHITECTURES, OneLineParser
from training.data import DataError, held_out_dir, read_split, train_dir

EXIT_BAD_INPUT = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        description="Train the cervical-fracture classifier and export it for the Lambda function.",
    )
    parser.add_argument("root", nargs="?", type=Path, help="dataset folder (Kaggle layout)")
    parser.add_argument("--download", action="store_true", help="fetch the dataset with kagglehub")
    parser.add_argument("--test-dir", type=Path, help="independent test split (default ROOT/val)")
    parser.add_argument("--out", type=Path, default=Path("model"), help="model folder (model/)")
    parser.add_argument(
        "--arch", default="custom", choices=[*ARCHITECTURES, "all"], help="architecture"
    )
    parser.add_argument("--weights", default="none", choices=["none", "imagenet"])
    parser.add_argument("--size", type=int, default=224, help="input height = width")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument(
        "--select",
        default="loss",
        choices=["loss", "auc"],
        help="best epoch/architecture by validation loss or AUC",
    )
    parser.add_argument("--patience", type=int, default=0, help="early stopping; 0 = off")
    parser.add_argument("--augment", action="store_true", help="perturb training images")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--final-fit",
        default="train",
        choices=["train", "all"],
        help="'all': after choosing epochs and threshold on validation, refit on train+validation",
    )
    parser.add_argument("--quantize", default="none", choices=["none", "dynamic", "float16"])
    parser.add_argument("--no-gate", action="store_true", help="skip fitting the input gate")
    parser.add_argument("--no-robustness", action="store_true", help="skip the robustness report")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    args = parser.parse_args(argv)
    problems = [
        (args.size < 32, f"--size must be at least 32, not {args.size}"),
        (args.epochs < 1, f"--epochs must be at least 1, not {args.epochs}"),
        (args.batch_size < 1, f"--batch-size must be at least 1, not {args.batch_size}"),
        (args.learning_rate <= 0, f"--learning-rate must be positive, not {args.learning_rate}"),
        (args.patience < 0, f"--patience must be 0 or more, not {args.patience}"),
        (not 0 < args.validation_fraction < 1, "--validation-fraction must be between 0 and 1"),
        (args.root is None and not args.download, "give a dataset folder or --download"),
    ]
    for failed, message in problems:
        if failed:
            parser.error(message)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Check the data before TensorFlow loads: a wrong folder fails in a second.
        if args.download:
            from training.download import fetch_dataset

            args.root, args.download = fetch_dataset(), False
        read_split(train_dir(args.root))
        test_root = held_out_dir(args.root, args.test_dir)
        if test_root is not None:
            read_split(test_root)
        from training.pipeline import run

        run(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
