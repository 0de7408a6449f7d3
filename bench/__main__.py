"""`python -m bench [NAME ...]`: run every benchmark present, or the ones named.

Each benchmark runs as `python -m bench.NAME` in its own process, so one's memory, threads
and imports (TensorFlow for training) never colour another's figures, and one failing does
not stop the rest. A module that is not there yet is reported and skipped, not an error,
unless it was named explicitly on the command line.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time

# Cheap and independent first; the long reliability runs last.
ORDER = ["training", "serving", "container", "gate", "soak", "fuzz", "load"]


def is_present(name: str) -> bool:
    return importlib.util.find_spec(f"bench.{name}") is not None


def run(name: str) -> int:
    print(f"== bench.{name}", flush=True)
    started = time.monotonic()
    code = subprocess.call([sys.executable, "-m", f"bench.{name}"])
    verdict = "ok" if code == 0 else f"FAILED (exit {code})"
    print(f"== bench.{name}: {verdict} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: {ORDER})")
    args = parser.parse_args(argv)
    failed: list[str] = []
    for name in args.names or ORDER:
        if not is_present(name):
            if args.names:
                print(f"== bench.{name}: no such benchmark module", file=sys.stderr)
                failed.append(name)
            else:
                print(f"== bench.{name}: not present, skipped")
            continue
        if run(name) != 0:
            failed.append(name)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
