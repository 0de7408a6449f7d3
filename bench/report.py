"""Write one benchmark's figures into its own section of docs/BENCHMARKS.md.

Each benchmark owns the text between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->`; rerunning
it replaces only that section, so benchmarks can run in any order or alone.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Written by the scripts in `bench/` (`make bench`, or one of them with "
    "`.venv/bin/python -m bench.NAME`). Each section says when and where it was measured.\n"
)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(key: str, title: str, markdown: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the section `key` with `markdown` under the heading `title`."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- bench:{key} -->\n## {title}\n\n_Measured {stamp} on {machine()}._\n\n"
        f"{markdown.strip()}\n<!-- /bench:{key} -->"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text() if path.exists() else HEADER
        pattern = re.compile(
            rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S
        )
        text = (
            pattern.sub(lambda _: block, text)
            if pattern.search(text)
            else text.rstrip() + "\n\n" + block + "\n"
        )
        path.write_text(text)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def served_model() -> str:
    """Which model the figures are for: name, version, architecture, sha256 prefix."""
    directory = Path(os.environ.get("MODEL_DIR") or ROOT / "model")
    try:
        card = json.loads((directory / "model.json").read_text())
    except (OSError, ValueError):
        return "unknown model"
    return (
        f"{card.get('name')} {card.get('version')} ({card.get('architecture')}, "
        f"sha256 {str(card.get('sha256'))[:12]}...)"
    )
