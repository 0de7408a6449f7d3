"""Fuzzing, the long run: the CI properties with 10,000+ examples, then atheris.

The properties and strategies are tests/reliability/fuzz_properties.py's, the ones CI runs
a few hundred times: every answer is a success body or a documented error object, nothing
raises, nothing takes longer than the time limit. Here hypothesis runs them with at least
10,000 examples in all; then, when atheris is installed (requirements/bench.txt), a
coverage-guided run over the decoder and the handler, with Pillow's Python plugins
instrumented, looks for inputs that random generation does not reach.

`python -m bench.fuzz [--examples 10000] [--atheris-seconds 120]` writes its figures to
docs/BENCHMARKS.md and exits 1 when any property fails. No network: name resolution is
replaced by a numeric-only stand-in for the whole run (see fuzz_properties.offline_fetch).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Share of the examples per property; the event parser gets the most (largest input space).
SHARES = {"events": 0.4, "uploads": 0.2, "base64_images": 0.2, "decoder": 0.2}


@dataclass
class PropertyRun:
    name: str
    examples: int = 0
    seconds: float = 0.0
    failure: str | None = None
    outcomes: Counter = field(default_factory=Counter)


@contextlib.contextmanager
def logs_to_devnull():
    """The handler's JSON logs are written (their cost is real) but not to the terminal."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def run_properties(total_examples: int) -> list[PropertyRun]:
    from hypothesis import given

    from tests.reliability import fuzz_properties as fuzz

    with fuzz.offline_fetch():
        import lambda_function

        handler = lambda_function.lambda_handler
        plan = {
            "events": (fuzz.events, lambda e: fuzz.check_event(handler, e)),
            "uploads": (fuzz.uploads, lambda e: fuzz.check_upload(handler, e)),
            "base64_images": (fuzz.image_bytes, lambda d: fuzz.check_base64_image(handler, d)),
            "decoder": (fuzz.image_bytes, fuzz.check_decoder),
        }
        runs = []
        for name, (strategy, check) in plan.items():
            examples = max(1, round(total_examples * SHARES[name]))
            run = PropertyRun(name)
            fuzz.outcomes.clear()
            before = fuzz.examples_run[name]
            started = time.monotonic()
            test = given(strategy)(fuzz.fuzz_settings(examples)(check))
            try:
                with logs_to_devnull():
                    test()
            except Exception as exc:  # a property failed: hypothesis shrank and re-raised it
                run.failure = f"{type(exc).__name__}: {str(exc).strip()[:400]}"
            run.seconds = time.monotonic() - started
            run.examples = fuzz.examples_run[name] - before
            run.outcomes = Counter(fuzz.outcomes)
            runs.append(run)
            print(
                f"{name}: {run.examples} examples in {run.seconds:.0f} s, "
                f"{'FAILED ' + run.failure if run.failure else 'ok'}",
                flush=True,
            )
    return runs


# -- atheris ----------------------------------------------------------------------------------


def atheris_child(seconds: int, corpus: str) -> None:
    """Runs inside its own process: libFuzzer exits the process when it is done."""
    import atheris

    # Everything that imports inference or Pillow must be imported inside this block, or the
    # modules come in uninstrumented and the fuzzer runs blind.
    with atheris.instrument_imports(include=["inference", "PIL", "lambda_function"]):
        import lambda_function
        from tests.reliability import fuzz_properties as fuzz

    handler = lambda_function.lambda_handler
    stack = contextlib.ExitStack()
    stack.enter_context(fuzz.offline_fetch())
    stack.enter_context(logs_to_devnull())

    def target(data: bytes) -> None:
        if not data:
            return
        choice, rest = data[0] % 3, data[1:]
        if choice == 0:
            fuzz.check_decoder(rest)
        elif choice == 1:
            fuzz.check_base64_image(handler, rest)
        else:
            try:
                event = json.loads(rest.decode("utf-8", errors="replace"))
            except ValueError:
                event = {"image": base64.b64encode(rest).decode()}
            fuzz.check_event(handler, event)

    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={seconds}",
            "-max_len=65536",
            "-print_final_stats=1",
            "-timeout=20",
            "-rss_limit_mb=4096",
            corpus,
        ],
        target,
    )
    atheris.Fuzz()


def write_seed_corpus(directory: Path) -> None:
    from tests.reliability.fuzz_properties import SEED_IMAGES

    for index, image in enumerate(SEED_IMAGES):
        (directory / f"decoder-{index}").write_bytes(b"\x00" + image)
        (directory / f"base64-{index}").write_bytes(b"\x01" + image)
    event = {
        "httpMethod": "POST",
        "path": "/predict",
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(SEED_IMAGES[0]).decode(),
        "isBase64Encoded": True,
    }
    (directory / "event-upload").write_bytes(b"\x02" + json.dumps(event).encode())
    (directory / "event-url").write_bytes(b"\x02" + b'{"url": "http://127.0.0.1/x.png"}')


@dataclass
class AtherisRun:
    ran: bool
    note: str = ""
    executions: int = 0
    coverage: str = ""
    seconds: float = 0.0
    crashed: bool = False
    crash_summary: str = ""


def run_atheris(seconds: int) -> AtherisRun:
    if seconds <= 0:
        return AtherisRun(False, "skipped (--atheris-seconds 0)")
    if importlib.util.find_spec("atheris") is None:
        return AtherisRun(
            False, "skipped: atheris is not installed (pip install -r requirements/bench.txt)"
        )
    with tempfile.TemporaryDirectory(prefix="fuzz-corpus-") as corpus:
        write_seed_corpus(Path(corpus))
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "bench.fuzz", "--atheris-child", str(seconds), corpus],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=seconds + 300,
        )
        elapsed = time.monotonic() - started
    log = result.stderr
    executions = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", log)
    crashed = result.returncode != 0
    summary = ""
    if crashed:
        tail = [line for line in log.splitlines() if line.strip()][-25:]
        summary = "\n".join(tail)
    return AtherisRun(
        True,
        executions=int(executions.group(1)) if executions else 0,
        coverage=f"{coverage[-1][0]} edges, {coverage[-1][1]} features" if coverage else "",
        seconds=elapsed,
        crashed=crashed,
        crash_summary=summary,
    )


# -- report -----------------------------------------------------------------------------------


def markdown(runs: list[PropertyRun], atheris: AtherisRun) -> str:
    from bench.report import markdown_table

    rows = []
    for run in runs:
        common = ", ".join(f"{o} ({n})" for o, n in run.outcomes.most_common(6))
        verdict = "**failed**" if run.failure else "held"
        rows.append([run.name, f"{run.examples:,}", f"{run.seconds:.0f} s", verdict, common])
    total = sum(run.examples for run in runs)
    text = (
        "`python -m bench.fuzz`: hypothesis over the properties of "
        "`tests/reliability/fuzz_properties.py` (the same ones CI runs with a few hundred "
        "examples). Property: every answer is a success body or a documented error object "
        "with its status; nothing raises; nothing takes longer than 15 s.\n\n"
        + markdown_table(["property", "examples", "time", "verdict", "most common outcomes"], rows)
        + f"\n\n**{total:,} examples in all.**\n"
    )
    failures = [f"- {run.name}: `{run.failure}`" for run in runs if run.failure]
    if failures:
        text += "\nFailures:\n" + "\n".join(failures) + "\n"
    if atheris.ran:
        text += (
            f"\natheris (coverage-guided, inference/ + Pillow + lambda_function instrumented): "
            f"{atheris.executions:,} executions in {atheris.seconds:.0f} s, "
            f"final coverage {atheris.coverage or 'n/a'}; "
            + (
                "**it found a failing input**:\n\n```\n" + atheris.crash_summary + "\n```\n"
                if atheris.crashed
                else "no failing input found.\n"
            )
        )
    else:
        text += f"\natheris: {atheris.note}.\n"
    return text


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--atheris-child":
        atheris_child(int(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="hypothesis, in all")
    parser.add_argument("--atheris-seconds", type=int, default=120)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS")
    args = parser.parse_args(argv)
    runs = run_properties(args.examples)
    atheris = run_atheris(args.atheris_seconds)
    text = markdown(runs, atheris)
    print(text)
    if not args.no_write:
        from bench.report import write_section

        write_section("fuzz", "Fuzzing (reliability)", text)
    return 1 if any(run.failure for run in runs) or atheris.crashed else 0


if __name__ == "__main__":
    sys.exit(main())
