"""python -m inference.cli: invoke (an event file or --image), demo; bad input is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inference import cli, logs
from tests.synthetic import encode, photo_like

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def restore_log_level():
    yield
    logs.logger.setLevel("INFO")


def run_module(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inference.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_invoke_an_event_file(lambda_module, capsys):
    assert cli.main(["invoke", str(ROOT / "events" / "apigw_v2_predict_binary.json")]) == 0
    response = json.loads(capsys.readouterr().out)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["prediction"] in ("fracture", "normal")


def test_invoke_a_local_image(lambda_module, capsys, tmp_path, ct_png):
    path = tmp_path / "slice.png"
    path.write_bytes(ct_png)
    assert cli.main(["invoke", "--image", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["statusCode"] == 200


def test_invoke_a_refused_image_exits_1_with_the_error(lambda_module, capsys, tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(encode(photo_like(1), "JPEG"))
    assert cli.main(["invoke", "--image", str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "not_a_ct_image"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "no/such/event.json"], "cannot read no/such/event.json"),
        (["invoke", "--image", "no/such/image.png"], "cannot read no/such/image.png"),
        (["invoke"], "give an event file or --image"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert captured.err.count("\n") == 1


def test_an_invalid_event_file_is_one_line(capsys, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert cli.main(["invoke", str(path)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_demo_runs_every_sample_and_a_local_image():
    result = run_module("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    for line in lines[:2]:  # the two public sample URLs: classified, or one line saying why not
        assert ("cannot reach raw.githubusercontent.com" in line) or ("P(fracture)=" in line)
    assert lines[2].startswith("direct_base64.json: ") and "P(fracture)=" in lines[2]
    assert lines[3].startswith("generated local image") and "P(fracture)=" in lines[3]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_model_is_one_line_not_a_stack_trace(tmp_path):
    result = run_module("invoke", "events/direct_base64.json", env={"MODEL_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("error: the model cannot be loaded")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_python_dash_m_inference_is_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "inference", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "invoke" in result.stdout and "serve" in result.stdout
