"""The Dockerfile agrees with the code: handler, model, Python version, requirements, context."""

from __future__ import annotations

import ast
import fnmatch
import json
import re

from scripts.lambda_image import (
    BASE_IMAGE_GLIBC,
    ROOT,
    TASK_ROOT,
    VARIANTS,
    VENV_FOR_PYTHON,
    parse_dockerfile,
)

TRAINING_ONLY = re.compile(
    r"^(tensorflow|tf-|keras(?!-image-helper)|scikit|torch|matplotlib|kaggle)"
)


def requirement_names(path):
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [re.split(r"[=<>!~\[; ]", line)[0].lower() for line in lines if line]


def copied_into_task_root(recipe) -> set[str]:
    """Paths relative to the task root that the COPY lines create (files, not directories)."""
    result = set()
    for copy in recipe.task_root_copies:
        relative = copy.destination[len(TASK_ROOT) :].strip("/")
        for source in copy.sources:
            origin = ROOT / source
            if origin.is_dir():
                result |= {
                    f"{relative}/{p.relative_to(origin)}".lstrip("/") for p in origin.rglob("*.py")
                }
            elif copy.destination.endswith("/"):
                result.add(f"{relative}/{origin.name}".lstrip("/"))
            else:
                result.add(relative)
    return result


def test_base_image_and_cmd(recipe):
    assert recipe.base_image == "public.ecr.aws/lambda/python:3.13"
    assert recipe.python_version in BASE_IMAGE_GLIBC
    assert recipe.cmd == ["lambda_function.lambda_handler"]


def test_handler_named_by_cmd_exists_in_the_task_root(recipe):
    module, _, function = recipe.cmd[0].rpartition(".")
    assert f"{module.replace('.', '/')}.py" in copied_into_task_root(recipe)
    tree = ast.parse((ROOT / f"{module.replace('.', '/')}.py").read_text())
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    assert handlers, f"{module}.py defines no {function}()"
    assert [a.arg for a in handlers[0].args.args] == ["event", "context"]


def test_the_serving_package_and_the_model_are_copied(recipe):
    copied = copied_into_task_root(recipe)
    model_file = json.loads((ROOT / "model" / "model.json").read_text())["file"]
    assert {"model/model.json", f"model/{model_file}"} <= copied
    assert {f"inference/{p.name}" for p in (ROOT / "inference").glob("*.py")} <= copied
    # lambda_function.py finds the model beside itself unless MODEL_DIR says otherwise.
    assert 'Path(__file__).resolve().parent / "model"' in (ROOT / "lambda_function.py").read_text()


def test_nothing_from_training_or_tests_enters_the_image(recipe):
    sources = [s for copy in recipe.copies for s in copy.sources]
    assert not [s for s in sources if s.startswith(("training", "tests", "bench", "."))]
    assert not [s for s in sources if s.endswith((".png", ".md"))]


def test_every_copy_source_passes_the_dockerignore(recipe):
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "the .dockerignore is an allow-list"
    allowed = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    legacy = parse_dockerfile(VARIANTS["legacy"].build_args)
    for copy in recipe.copies + legacy.copies:
        for source in copy.sources:
            assert any(fnmatch.fnmatch(source.rstrip("/"), p) for p in allowed), source


def test_variants_pair_python_and_requirements():
    default = parse_dockerfile(VARIANTS["default"].build_args)
    legacy = parse_dockerfile(VARIANTS["legacy"].build_args)
    assert (default.python_version, default.requirements) == ("3.13", "requirements/lambda.txt")
    assert (legacy.python_version, legacy.requirements) == (
        "3.11",
        "requirements/lambda-legacy.txt",
    )
    assert "ai-edge-litert" in requirement_names(ROOT / default.requirements)
    assert "tflite-runtime" in requirement_names(ROOT / legacy.requirements)
    for recipe in (default, legacy):
        assert (ROOT / recipe.requirements).is_file()
        assert (ROOT / VENV_FOR_PYTHON[recipe.python_version]).name.startswith(".venv")


def test_makefile_builds_the_legacy_variant_with_the_same_arguments():
    makefile = (ROOT / "Makefile").read_text()
    for key, value in VARIANTS["legacy"].build_args.items():
        assert f"--build-arg {key}={value}" in makefile


def test_image_requirements_hold_no_training_stack_and_no_second_boto3():
    for name in ("lambda.txt", "lambda-legacy.txt"):
        packages = requirement_names(ROOT / "requirements" / name)
        assert not [p for p in packages if TRAINING_ONLY.match(p)], name
        assert not {"boto3", "botocore"} & set(packages), f"{name}: boto3 comes with the base image"


def test_serving_code_never_imports_training_packages():
    for path in [ROOT / "lambda_function.py", *(ROOT / "inference").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [
                n
                for n in names
                if n.split(".")[0] in {"tensorflow", "keras", "sklearn", "training"}
            ]
            assert not bad, f"{path.name} imports {bad}"
