"""Fixtures for the container tests: the Dockerfile's recipe and the image's file tree per variant.

Laying out a variant installs its dependencies with `pip install --target --platform ...` (once;
build/container/ caches it) and lays out the task root from the Dockerfile's COPY lines.
These tests need .venv-py313, .venv-legacy and .venv-sam (make setup-serving setup-sam).
"""

from __future__ import annotations

import pytest

from scripts.lambda_image import VARIANTS, build_layout, parse_dockerfile


@pytest.fixture(scope="session")
def recipe():
    return parse_dockerfile()


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def layout(request):
    return build_layout(request.param)
