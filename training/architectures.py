"""The names `--arch` accepts, importable without loading TensorFlow (the CLI checks its
arguments before the heavy imports, so a typo fails in a second)."""

import argparse
import sys

ARCHITECTURES = ("slicenet", "custom", "xception", "inception_v3", "resnet50v2")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument ends with one line on stderr, not the whole usage."""

    def error(self, message: str):
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)
