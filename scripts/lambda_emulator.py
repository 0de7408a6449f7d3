"""Run the image's task root under the real Lambda Runtime Interface Emulator, without Docker.

What `docker run -p 9000:8080 IMAGE` does, on this machine: the emulator (aws-lambda-rie, the
binary the base image carries; here the copy inside the aws-sam-cli wheel) serves
POST /2015-03-31/functions/function/invocations and starts the runtime interface client
(awslambdaric) with the image's Python, the task root and its dependencies on sys.path, and
the CMD's handler. Bound to 127.0.0.1 only.

    .venv/bin/python -m scripts.lambda_emulator default --port 9000
    curl -XPOST localhost:9000/2015-03-31/functions/function/invocations \
        -d @events/direct_base64.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.lambda_image import ROOT, VARIANTS, Layout, build_layout

SAM_VENV = ROOT / ".venv-sam"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def rie_binary() -> Path:
    """aws-lambda-rie as shipped in the aws-sam-cli wheel (make setup-sam)."""
    found = sorted(
        SAM_VENV.glob("lib/python*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64")
    )
    if not found:
        raise FileNotFoundError(f"no aws-lambda-rie under {SAM_VENV}: run `make setup-sam`")
    return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Emulator:
    """aws-lambda-rie + awslambdaric serving one layout on 127.0.0.1:port."""

    def __init__(self, layout: Layout, port: int | None = None, env: dict | None = None):
        self.layout = layout
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = layout.task_root.parent / "emulator.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{INVOKE_PATH}"

    def command(self) -> list[str]:
        handler = self.layout.recipe.cmd[0]
        address = ["--runtime-interface-emulator-address", f"127.0.0.1:{self.port}"]
        api = ["--runtime-api-address", f"127.0.0.1:{free_port()}"]
        runtime = [str(self.layout.python), "-m", "awslambdaric", handler]
        return [str(rie_binary()), *address, *api, *runtime]

    def environment(self) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": self.layout.python_path,
            "PYTHONNOUSERSITE": "1",
            "LAMBDA_TASK_ROOT": str(self.layout.task_root),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 20.0) -> Emulator:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process in stop()
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.layout.task_root,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._log = log
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"the emulator did not listen on {self.port} within {timeout} s")

    def invoke(self, event: dict | bytes, timeout: float = 60.0) -> tuple[int, dict, float]:
        """POST the event as curl -d would; -> (HTTP status, decoded payload, seconds)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload, status = response.read(), response.status
        except urllib.error.HTTPError as error:  # e.g. 502 on an init error: curl shows it too
            payload, status = error.read(), error.code
        seconds = time.perf_counter() - started
        try:
            return status, json.loads(payload), seconds
        except ValueError:
            return status, {"raw": payload.decode(errors="replace")}, seconds

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS), nargs="?", default="default")
    parser.add_argument("--port", type=int, default=9000)
    arguments = parser.parse_args()
    # `kill` (SIGTERM) stops the emulator too, as Ctrl-C does: exit through the with-block.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Emulator(build_layout(arguments.variant), port=arguments.port) as emulator:
        print(f"listening: {emulator.url} (Ctrl-C stops; log: {emulator.log_path})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            emulator.process.wait()


if __name__ == "__main__":
    main()
