"""The image's dependencies install as binary wheels for the Lambda platform, and stay small.

The `layout` fixture ran `pip install --target --platform manylinux_* --python-version X
--only-binary=:all:` with the requirements file the Dockerfile copies, then pruned and
compiled as the Dockerfile's RUN does: reaching a test here proves every dependency has a
wheel the base image can load.
"""

from __future__ import annotations

import re

from scripts.lambda_image import ROOT

MB = 1024 * 1024
DEFAULT_VARIANT_BUDGET = 160 * MB  # issue 4's goal for the default variant's dependencies


def pins(requirements):
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return dict(line.split("==") for line in lines if line)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def test_every_pinned_requirement_is_installed_at_its_version(layout):
    installed = dict(
        p.name.removesuffix(".dist-info").rsplit("-", 1)
        for p in layout.dependencies.glob("*.dist-info")
    )
    installed = {normalise(name): version for name, version in installed.items()}
    for name, version in pins(ROOT / layout.recipe.requirements).items():
        assert installed.get(normalise(name)) == version, name


def test_no_training_stack_and_no_second_boto3_in_the_installed_tree(layout):
    top_level = {normalise(p.name) for p in layout.dependencies.iterdir()}
    assert not top_level & {"tensorflow", "keras", "sklearn", "torch", "matplotlib"}
    assert not top_level & {"boto3", "botocore"}, "boto3 comes with the base image"


def test_pruned_files_are_gone_and_bytecode_matches_the_image_python(layout):
    lines = (
        line.split("#")[0].strip() for line in (ROOT / "docker/prune.txt").read_text().splitlines()
    )
    for entry in filter(None, lines):
        assert not (layout.dependencies / entry).exists(), entry
    tag = f"cpython-{layout.recipe.python_version.replace('.', '')}"
    assert list(layout.dependencies.glob(f"numpy/__pycache__/__init__.{tag}.pyc"))
    assert list(layout.task_root.glob(f"inference/__pycache__/*.{tag}.pyc"))


def test_default_variant_dependencies_fit_the_budget(layout):
    if layout.variant != "default":
        return
    assert layout.sizes["compiled_bytes"] <= DEFAULT_VARIANT_BUDGET, layout.sizes
