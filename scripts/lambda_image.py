"""Lay out the Lambda image's file tree without Docker: dependencies and task root.

The Dockerfile stays the single source: its ARG defaults, build arguments and COPY lines are
parsed here, the requirements file its RUN installs is the one its COPY puts in
/tmp/requirements.txt, and the files pruned are those of docker/prune.txt. Dependencies are
installed the way the image's `pip install --target` would on the image's platform
(`--platform manylinux_*` up to the base image's glibc, `--only-binary=:all:`), which proves
every dependency has a binary wheel there, then compiled by the image's own Python.

    .venv/bin/python -m scripts.lambda_image default      # prints the layout and the sizes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
BUILD = ROOT / "build" / "container"
TASK_ROOT = "/var/task"  # ${LAMBDA_TASK_ROOT} in the base image
# The base image's operating system decides which manylinux wheels it can load.
BASE_IMAGE_GLIBC = {"3.13": (2, 34), "3.11": (2, 26)}  # Amazon Linux 2023, Amazon Linux 2
BASE_IMAGE_OS = {"3.13": "Amazon Linux 2023", "3.11": "Amazon Linux 2 (support ended 2026-06-30)"}
# Virtual environments (made by the Makefile) whose base interpreter is the image's Python.
VENV_FOR_PYTHON = {"3.13": ".venv-py313", "3.11": ".venv-legacy"}


@dataclass(frozen=True)
class Variant:
    name: str
    build_args: dict[str, str] = field(default_factory=dict)

    def docker_build_args(self) -> list[str]:
        return [f"--build-arg={key}={value}" for key, value in self.build_args.items()]


VARIANTS = {
    "default": Variant("default"),
    "legacy": Variant(
        "legacy", {"PYTHON_VERSION": "3.11", "REQUIREMENTS": "requirements/lambda-legacy.txt"}
    ),
}


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    destination: str


@dataclass(frozen=True)
class Recipe:
    """What the Dockerfile builds, for one set of build arguments."""

    base_image: str
    python_version: str
    copies: list[Copy]
    cmd: list[str]
    arguments: dict[str, str]

    def copied_to(self, destination: str) -> str:
        """The source file a COPY puts at `destination` (/tmp/requirements.txt, /tmp/prune/x)."""
        folder, _, name = destination.rpartition("/")
        for copy in self.copies:
            if copy.destination == destination and len(copy.sources) == 1:
                return copy.sources[0]
            if copy.destination.rstrip("/") == folder and copy.destination.endswith("/"):
                for source in copy.sources:
                    if source.rpartition("/")[2] == name:
                        return source
        raise ValueError(f"the Dockerfile copies nothing to {destination}")

    @property
    def requirements(self) -> str:
        return self.copied_to("/tmp/requirements.txt")

    @property
    def task_root_copies(self) -> list[Copy]:
        return [c for c in self.copies if c.destination.startswith(TASK_ROOT)]


def instructions(text: str) -> list[tuple[str, str]]:
    """Dockerfile -> [(INSTRUCTION, arguments)]: continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def parse_dockerfile(build_args: dict[str, str] | None = None, path: Path = DOCKERFILE) -> Recipe:
    arguments: dict[str, str] = {"LAMBDA_TASK_ROOT": TASK_ROOT}
    overrides = build_args or {}
    base_image, copies, cmd = "", [], []

    def expand(value: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: arguments[m.group(1) or m.group(2)], value)

    for keyword, rest in instructions(path.read_text()):
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            if name not in arguments or name in overrides:
                arguments[name] = overrides.get(name, default)
        elif keyword == "FROM":
            base_image = expand(rest.split()[0])
        elif keyword == "COPY":
            parts = [expand(p) for p in shlex.split(rest) if not p.startswith("--")]
            copies.append(Copy(parts[:-1], parts[-1]))
        elif keyword == "CMD":
            cmd = json.loads(rest)
    python_version = base_image.rpartition(":")[2]
    return Recipe(base_image, python_version, copies, cmd, arguments)


def platforms(python_version: str) -> list[str]:
    """manylinux tags the base image's glibc can load, newest first."""
    major, minor = BASE_IMAGE_GLIBC[python_version]
    tags = [f"manylinux_{major}_{m}_x86_64" for m in range(minor, 16, -1)]
    return [*tags, "manylinux2014_x86_64"]


def pip_target_install(requirements: list[str], target: Path, python_version: str) -> None:
    """`pip install --target` for the image's platform and Python, binary wheels only."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--no-warn-conflicts",
    ]
    command += ["--target", str(target), "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", python_version]
    for tag in platforms(python_version):
        command += ["--platform", tag]
    subprocess.run([*command, *requirements], check=True)


def image_python(python_version: str) -> Path:
    """The interpreter that plays the image's Python: the base of the matching venv."""
    venv = ROOT / VENV_FOR_PYTHON[python_version]
    config = venv / "pyvenv.cfg"
    if not config.exists():
        raise FileNotFoundError(f"{venv} is missing: run `make setup-serving`")
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "executable":
            return Path(value.strip())
    raise ValueError(f"{config} names no executable (made by Python < 3.11?)")


def tree_size(path: Path) -> int:
    """Bytes on disk (allocated blocks), as `du` would count them."""
    return sum(p.lstat().st_blocks * 512 for p in path.rglob("*") if not p.is_symlink())


def fingerprint(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else str(part).encode())
    return digest.hexdigest()


def install_dependencies(recipe: Recipe, directory: Path) -> dict:
    """The RUN step: pip install --target, prune, compileall. Cached on its inputs."""
    requirements = ROOT / recipe.requirements
    prune = ROOT / recipe.copied_to("/tmp/prune/prune.txt")
    pruner = ROOT / recipe.copied_to("/tmp/prune/prune.py")
    python = image_python(recipe.python_version)
    stamp_file = directory / "layout.json"
    key = fingerprint(requirements, prune, pruner, python, platforms(recipe.python_version))
    if stamp_file.exists() and json.loads(stamp_file.read_text()).get("key") == key:
        return json.loads(stamp_file.read_text())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    pip_target_install(["-r", str(requirements)], directory, recipe.python_version)
    installed = tree_size(directory)
    subprocess.run([str(python), str(pruner), str(directory), str(prune)], check=True)
    pruned = tree_size(directory)
    subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", str(directory)], check=True)
    stamp = {
        "key": key,
        "requirements": recipe.requirements,
        "python": recipe.python_version,
        "installed_bytes": installed,
        "pruned_bytes": pruned,
        "compiled_bytes": tree_size(directory),
    }
    stamp_file.write_text(json.dumps(stamp, indent=1))
    return stamp


def lay_out_task_root(recipe: Recipe, task_root: Path) -> None:
    """Apply the Dockerfile's COPY lines into ${LAMBDA_TASK_ROOT} (Docker's semantics), compile."""
    shutil.rmtree(task_root, ignore_errors=True)
    task_root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for copy in recipe.task_root_copies:
        destination = task_root / copy.destination[len(TASK_ROOT) :].lstrip("/")
        for source in copy.sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=ignore, dirs_exist_ok=True)
            else:
                target = (
                    destination / origin.name if copy.destination.endswith("/") else destination
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    python = image_python(recipe.python_version)
    subprocess.run([str(python), "-m", "compileall", "-q", str(task_root)], check=True)


def awslambdaric_pin() -> str:
    """The awslambdaric version the tests pin (the base image carries its own copy)."""
    for line in (ROOT / "requirements" / "test.txt").read_text().splitlines():
        if line.startswith("awslambdaric=="):
            return line.strip()
    raise ValueError("requirements/test.txt pins no awslambdaric")


def install_runtime(python_version: str, directory: Path) -> Path:
    """/var/runtime of the base image: the runtime interface client, for the image's Python."""
    pin = awslambdaric_pin()
    stamp = directory / ".pin"
    key = fingerprint(pin, platforms(python_version))
    if not (stamp.exists() and stamp.read_text() == key):
        shutil.rmtree(directory, ignore_errors=True)
        pip_target_install([pin], directory, python_version)
        stamp.write_text(key)
    return directory


@dataclass(frozen=True)
class Layout:
    variant: str
    recipe: Recipe
    python: Path
    task_root: Path
    dependencies: Path
    runtime: Path
    sizes: dict

    @property
    def python_path(self) -> str:
        """sys.path as Lambda sets it: task root (code + --target deps) before the runtime."""
        return ":".join(str(p) for p in (self.task_root, self.dependencies, self.runtime))


def build_layout(variant: str = "default", base: Path = BUILD) -> Layout:
    recipe = parse_dockerfile(VARIANTS[variant].build_args)
    directory = base / variant
    sizes = install_dependencies(recipe, directory / "dependencies")
    runtime = install_runtime(recipe.python_version, directory / "runtime")
    lay_out_task_root(recipe, directory / "task")
    return Layout(
        variant=variant,
        recipe=recipe,
        python=image_python(recipe.python_version),
        task_root=directory / "task",
        dependencies=directory / "dependencies",
        runtime=runtime,
        sizes=sizes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS), nargs="?", default="default")
    layout = build_layout(parser.parse_args().variant)
    mb = 1024 * 1024
    print(
        f"base image   {layout.recipe.base_image} ({BASE_IMAGE_OS[layout.recipe.python_version]})"
    )
    print(f"requirements {layout.recipe.requirements}")
    print(f"python       {layout.python}")
    print(f"task root    {layout.task_root}")
    for key in ("installed_bytes", "pruned_bytes", "compiled_bytes"):
        print(f"{key:<14} {layout.sizes[key] / mb:7.1f} MB")


if __name__ == "__main__":
    main()
