"""Container figures: dependency size per variant, image sizes, cold start and warm latency
through the Lambda emulator.

    .venv/bin/python -m bench.container            # writes its section of docs/BENCHMARKS.md
    .venv/bin/python -m bench.container --quick    # fewer rounds, nothing written

- Dependency size: the image's `pip install --target` for the Lambda platform (as installed;
  after docker/prune.txt; after compileall by the image's Python = what the image holds).
- Through the emulator without Docker (scripts/lambda_emulator.py: aws-lambda-rie +
  awslambdaric + the image's Python, the task root laid out from the Dockerfile): cold start =
  the first invoke of a fresh emulator (runtime start, imports, model load, the request), in
  separate fresh emulators; warm = later invokes of one emulator (HTTP round trip included);
  peak RSS of the runtime process.
- With Docker, when a dockerd answers: stand-in base and project image sizes, and the cold
  start through `docker run` (container start excluded: first invoke once the port answers).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.report import markdown_table, write_section
from scripts.lambda_emulator import INVOKE_PATH, Emulator, free_port
from scripts.lambda_image import ROOT, VARIANTS, build_layout
from tests.synthetic import ct_slice, encode

MB = 1024 * 1024
LARGE_SIDE = 4000  # a large upload: 16 megapixels (the service accepts up to 25)
EVENTS = ["direct_base64", "apigw_v1_predict_binary"]
IMAGES = {"default": "cervical-fracture:python3.13", "legacy": "cervical-fracture:python3.11"}
BASES = {
    "default": "public.ecr.aws/lambda/python:3.13",
    "legacy": "public.ecr.aws/lambda/python:3.11",
}


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def peak_rss_mb(emulator: Emulator) -> float:
    """VmHWM of the runtime (the emulator's child process running awslambdaric)."""
    pid = emulator.process.pid
    children = [
        child
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def large_event() -> dict:
    image = ct_slice(seed=5, size=LARGE_SIDE, mode="RGB")
    # JPEG: Lambda's (and the emulator's) 6 MB request limit rules out a 16-megapixel PNG.
    return {"image": base64.b64encode(encode(image, "JPEG", quality=85)).decode()}


def emulator_figures(layout, colds: int, warms: int) -> dict:
    cold = []
    for _ in range(colds):
        with Emulator(layout) as emulator:
            status, payload, seconds = emulator.invoke(event("direct_base64"))
            assert status == 200 and payload["statusCode"] == 200, payload
            cold.append(seconds)
    warm: dict[str, list[float]] = {name: [] for name in EVENTS}
    with Emulator(layout) as emulator:
        emulator.invoke(event("direct_base64"))
        for _ in range(warms):
            for name in EVENTS:
                _, payload, seconds = emulator.invoke(event(name))
                assert payload["statusCode"] == 200, payload
                warm[name].append(seconds)
        rss = peak_rss_mb(emulator)
        _, payload, large_seconds = emulator.invoke(large_event())
        assert payload.get("statusCode") == 200, (payload, emulator.log()[-2000:])
        rss_large = peak_rss_mb(emulator)
    return {"cold": cold, "warm": warm, "rss": rss, "rss_large": rss_large, "large": large_seconds}


def docker_ready() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def image_size_mb(image: str) -> float | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
    )
    return int(result.stdout) / 1e6 if result.returncode == 0 else None


def docker_cold_start(image: str) -> float:
    """First invoke that reaches the emulator in a fresh `docker run -p` container.

    docker-proxy accepts connections before the emulator listens and resets them; such a
    reset attempt never reaches the emulator (no init starts), so only the attempt that gets
    an answer is timed.
    """
    port = free_port()
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8080", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    body = json.dumps(event("direct_base64")).encode()
    try:
        deadline = time.monotonic() + 30
        while True:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{INVOKE_PATH}", data=body)
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    payload = json.loads(response.read())
                seconds = time.perf_counter() - started
                break
            except (ConnectionError, urllib.error.URLError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert payload["statusCode"] == 200, payload
        return seconds
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; write nothing")
    arguments = parser.parse_args()
    colds, warms = (2, 10) if arguments.quick else (5, 100)

    size_rows, latency_rows, docker_rows = [], [], []
    default_size = None
    for variant in VARIANTS:
        layout = build_layout(variant)
        sizes = layout.sizes
        if variant == "default":
            default_size = sizes["compiled_bytes"] / MB
        size_rows.append(
            [
                variant,
                layout.recipe.base_image,
                layout.recipe.requirements,
                f"{sizes['installed_bytes'] / MB:.1f}",
                f"{sizes['pruned_bytes'] / MB:.1f}",
                f"{sizes['compiled_bytes'] / MB:.1f}",
            ]
        )
        figures = emulator_figures(layout, colds, warms)
        cold = figures["cold"]
        latency_rows.append(
            [
                variant,
                f"Python {layout.recipe.python_version}",
                f"{statistics.median(cold):.2f}",
                f"{min(cold):.2f} - {max(cold):.2f}",
                ms(figures["warm"]["direct_base64"]),
                ms(figures["warm"]["apigw_v1_predict_binary"]),
                f"{figures['rss']:.0f}",
                f"{figures['large']:.2f}",
                f"{figures['rss_large']:.0f}",
            ]
        )
        print(size_rows[-1], latency_rows[-1], flush=True)

    if docker_ready():
        for variant in VARIANTS:
            base, image = image_size_mb(BASES[variant]), image_size_mb(IMAGES[variant])
            cold = docker_cold_start(IMAGES[variant]) if image else None
            docker_rows.append(
                [
                    variant,
                    f"{base:.0f}" if base else "not built",
                    f"{image:.0f}" if image else "not built",
                    f"{image - base:.0f}" if base and image else "-",
                    f"{cold:.2f}" if cold else "-",
                ]
            )
        docker_text = markdown_table(
            [
                "variant",
                "stand-in base MB",
                "image MB",
                "added by our Dockerfile MB",
                "docker run cold start s",
            ],
            docker_rows,
        ) + (
            "\n\nDocker's uncompressed image sizes (`docker image inspect .Size`, MB = 10^6 "
            "bytes). The stand-in bases are Debian roots (docs/CONTAINER.md), so their size says "
            "nothing about Amazon's base images; the difference is what the project's Dockerfile "
            "adds. Built by `make e2e-docker`. The docker-run cold start is one container per "
            "variant (first invoke that reaches the emulator; container start not included)."
        )
    else:
        docker_text = (
            "No dockerd answered: image sizes and the docker-run cold start were not measured."
        )
    print(docker_text, flush=True)

    verdict = "met" if default_size is not None and default_size <= 160 else "NOT met"
    text = "\n\n".join(
        [
            "### Installed dependencies (`pip install --target`, Lambda platform wheels)",
            markdown_table(
                [
                    "variant",
                    "base image",
                    "requirements",
                    "installed MB",
                    "after prune MB",
                    "with .pyc MB",
                ],
                size_rows,
            ),
            f"MB = MiB of allocated blocks (`du`). Goal: default variant <= 160 MB with its "
            f"bytecode: {default_size:.1f} MB, {verdict}. Pruned (docker/prune.txt): "
            "ai-edge-litert's WebGPU accelerator, NPU vendor plug-ins and AOT compiler, "
            "console scripts.",
            "### Through the Lambda emulator, without Docker",
            markdown_table(
                [
                    "variant",
                    "Python",
                    "cold start s (median)",
                    "cold range s",
                    "warm direct base64 ms",
                    "warm API GW v1 binary ms",
                    "runtime peak RSS MB",
                    f"{LARGE_SIDE}x{LARGE_SIDE} JPEG s",
                    "peak RSS after it MB",
                ],
                latency_rows,
            ),
            "Cold start = first invoke of a fresh aws-lambda-rie + awslambdaric (runtime "
            f"start, imports, model load and the request), median of {colds} fresh emulators. "
            f"Warm = median of {warms} invokes of one emulator per event (128x128 synthetic "
            "slice; the HTTP round trip through the emulator included). The 2-core CPU was "
            "shared with other jobs.",
            "### With Docker (stand-in base images)",
            docker_text,
        ]
    )
    if not arguments.quick:
        write_section(
            "container", "Container: dependency size, image size, cold start, warm latency", text
        )
    print(text)


if __name__ == "__main__":
    main()
