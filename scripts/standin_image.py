"""Build the stand-in Lambda base image under its real tag (public.ecr.aws/lambda/python:X).

public.ecr.aws is unreachable here, so `docker build` of the project's Dockerfile needs a local
image under the base image's tag. This stages docker/standin/ with the cached debootstrapped
root (scripts/standin_rootfs.sh), awslambdaric for that Python, the emulator from the aws-sam-cli
wheel and this machine's extra CA certificates, then runs the legacy `docker build`. A label
holds the inputs' fingerprint: an unchanged stand-in is not rebuilt.

    .venv/bin/python -m scripts.standin_image 3.13
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

from scripts.lambda_emulator import rie_binary
from scripts.lambda_image import BUILD, ROOT, fingerprint, install_runtime

STANDIN = ROOT / "docker" / "standin"
EXTRA_CERTIFICATES = Path("/usr/local/share/ca-certificates")
LABEL = "cervical-fracture.standin"


def tag(python_version: str) -> str:
    return f"public.ecr.aws/lambda/python:{python_version}"


def rootfs(python_version: str) -> Path:
    result = subprocess.run(
        [str(ROOT / "scripts" / "standin_rootfs.sh"), python_version],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def current_label(image: str) -> str:
    result = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{ index .Config.Labels "{LABEL}" }}}}',
            image,
        ],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def stage_context(python_version: str, directory: Path) -> str:
    """Fill the build context; -> the fingerprint of everything in it."""
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(STANDIN, directory, symlinks=True)
    root_tar = rootfs(python_version)
    try:
        os.link(root_tar, directory / "rootfs.tar")
    except OSError:
        shutil.copy2(root_tar, directory / "rootfs.tar")
    shutil.copytree(
        install_runtime(python_version, BUILD / f"runtime-{python_version}"), directory / "runtime"
    )
    shutil.copy2(rie_binary(), directory / "aws-lambda-rie")
    (directory / "certificates").mkdir()
    for certificate in sorted(EXTRA_CERTIFICATES.glob("*.crt")):
        shutil.copy2(certificate, directory / "certificates" / certificate.name)
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "rootfs.tar")
    stat = root_tar.stat()
    return fingerprint(
        python_version,
        stat.st_size,
        stat.st_mtime,
        *[str(p.relative_to(directory)) for p in files],
        *files,
    )


def build(python_version: str, force: bool = False) -> str:
    image = tag(python_version)
    context = BUILD / f"standin-{python_version}"
    key = stage_context(python_version, context)
    if not force and current_label(image) == key:
        print(f"{image}: up to date")
        return image
    command = ["docker", "build", "--build-arg", f"PYTHON_VERSION={python_version}"]
    command += ["--label", f"{LABEL}={key}", "-t", image, str(context)]
    subprocess.run(command, check=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("python_version", choices=["3.13", "3.11"], nargs="?", default="3.13")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    arguments = parser.parse_args()
    print(build(arguments.python_version, arguments.force))


if __name__ == "__main__":
    main()
