"""The task root, laid out from the Dockerfile, answers under the real Lambda emulator.

Exactly what `docker run -p 9000:8080 IMAGE` + curl exercise: aws-lambda-rie (from the
aws-sam-cli wheel) runs awslambdaric with the image's Python (3.13 for the default variant,
3.11 for the legacy one) and the CMD's handler, and the test POSTs events over HTTP to
/2015-03-31/functions/function/invocations.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import subprocess

import pytest

from scripts.lambda_emulator import Emulator
from scripts.lambda_image import ROOT
from tests.synthetic import ct_slice, encode

RUNTIME_OF = {"default": "ai-edge-litert", "legacy": "tflite-runtime"}


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def emulator(layout):
    with Emulator(layout) as running:
        yield running


def test_the_image_python_imports_the_stack_from_the_task_root(layout):
    probe = (
        "import numpy, PIL, keras_image_helper, awslambdaric; print(numpy.__file__, PIL.__file__)"
    )
    environment = Emulator(layout).environment()
    result = subprocess.run(
        [str(layout.python), "-c", probe],
        env=environment,
        cwd=layout.task_root,
        capture_output=True,
        text=True,
        check=True,
    )
    for path in result.stdout.split():
        assert path.startswith(str(layout.dependencies)), path


def test_direct_base64_event(emulator):
    status, payload, _ = emulator.invoke(event("direct_base64"))
    assert status == 200, emulator.log()
    assert payload["statusCode"] == 200, payload
    assert 0.0 <= payload["fracture_probability"] <= 1.0
    expected = "fracture" if payload["fracture_probability"] >= payload["threshold"] else "normal"
    assert payload["prediction"] == expected


def test_generated_fracture_slice_as_raw_bytes_through_api_gateway_v1(emulator):
    request = event("apigw_v1_predict_binary")
    request["body"] = base64.b64encode(encode(ct_slice(seed=11, fracture=True))).decode()
    _, payload, _ = emulator.invoke(request)
    assert payload["statusCode"] == 200, payload
    assert payload["headers"]["Content-Type"] == "application/json"
    body = json.loads(payload["body"])
    assert body["prediction"] in {"fracture", "normal"}


def test_health_reports_the_variant_runtime(emulator, layout):
    _, payload, _ = emulator.invoke(event("apigw_v2_health"))
    assert payload["statusCode"] == 200, payload
    assert json.loads(payload["body"])["runtime"] == RUNTIME_OF[layout.variant]


def test_bad_request_is_a_shaped_400_not_a_crash(emulator):
    status, payload, _ = emulator.invoke({"image": "not base64 at all!"})
    assert status == 200
    assert payload["statusCode"] == 400, payload
    assert "error" in payload


def test_a_task_root_missing_the_serving_package_fails_under_the_emulator(layout, tmp_path):
    """The emulator run can fail: without inference/ the runtime reports an import error."""
    broken_root = tmp_path / "task"
    shutil.copytree(layout.task_root, broken_root, ignore=shutil.ignore_patterns("inference"))
    with Emulator(dataclasses.replace(layout, task_root=broken_root)) as broken:
        _, payload, _ = broken.invoke(event("direct_base64"))
    assert payload.get("errorType") == "Runtime.ImportModuleError", payload
