"""Delete the parts of the installed wheels that serving never loads (listed in prune.txt).

    python3 prune.py TARGET_DIR prune.txt

Run by the Dockerfile right after `pip install --target`, and by scripts/lambda_image.py on
the same tree without Docker. Plain Python on purpose: Amazon Linux 2023's minimal base
image need not carry findutils or the like.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def entries(listing: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in listing.read_text().splitlines())
    return [line for line in lines if line]


def prune(target: Path, listing: Path) -> list[str]:
    removed = []
    for entry in entries(listing):
        victim = target / entry
        if victim.is_dir() and not victim.is_symlink():
            shutil.rmtree(victim)
        elif victim.exists() or victim.is_symlink():
            victim.unlink()
        else:
            continue
        removed.append(entry)
    return removed


if __name__ == "__main__":
    gone = prune(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"pruned {len(gone)}: {', '.join(gone) or 'nothing'}")
