"""The local API (inference.server on waitress) over real HTTP on 127.0.0.1, and the client
script against it: the stand-ins for `sam local start-api` and the original predict_test.py."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from inference.server import MAX_REQUEST_BYTES, create_server

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "scripts" / "predict_client.py"


@pytest.fixture(scope="module")
def api(lambda_module):
    server = create_server(lambda_module.lambda_handler, "127.0.0.1", 0, threads=2)
    worker = threading.Thread(target=server.run, daemon=True)
    worker.start()
    yield "127.0.0.1", server.effective_port
    server.close()
    worker.join(5)


def call(api, method: str, path: str, body: bytes | None = None, content_type: str | None = None):
    connection = http.client.HTTPConnection(*api, timeout=30)
    headers = {"Content-Type": content_type} if content_type else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), payload


def as_json(image: bytes) -> bytes:
    return json.dumps({"image": base64.b64encode(image).decode()}).encode()


def test_the_server_listens_on_loopback_only(api):
    assert api[0] == "127.0.0.1"


def test_health(api, lambda_module):
    status, content_type, payload = call(api, "GET", "/health")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(payload)["model"]["version"] == lambda_module.MODEL.card.version


def test_json_and_binary_uploads_give_the_same_answer(api, ct_png):
    status_json, _, json_body = call(api, "POST", "/predict", as_json(ct_png), "application/json")
    status_bin, _, bin_body = call(api, "POST", "/predict", ct_png, "image/png")
    assert status_json == status_bin == 200
    first, second = json.loads(json_body), json.loads(bin_body)
    assert first["prediction"] in ("fracture", "normal")
    assert first["fracture_probability"] == pytest.approx(second["fracture_probability"])


def test_a_url_is_fetched(api, image_server, private_urls):
    body = json.dumps({"url": image_server.base + "/ct.png"}).encode()
    status, _, payload = call(api, "POST", "/predict", body, "application/json")
    assert status == 200 and json.loads(payload)["input_check"]["passed"] is True


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        ("GET", "/predict", None, None, 405, "method_not_allowed"),
        ("GET", "/missing", None, None, 404, "route_not_found"),
        ("POST", "/predict", b"{nope", "application/json", 400, "invalid_json"),
        ("POST", "/predict", b"hello", "text/plain", 415, "unsupported_media_type"),
        ("POST", "/predict", b"GIF89a" + bytes(64), "image/png", 415, "unsupported_image_type"),
    ],
)
def test_errors_over_http(api, method, path, body, content_type, status, code):
    got_status, got_type, payload = call(api, method, path, body, content_type)
    assert (got_status, got_type) == (status, "application/json")
    assert json.loads(payload)["error"]["code"] == code


def test_a_photo_is_refused_over_http(api, photo_png):
    status, _, payload = call(api, "POST", "/predict", photo_png, "image/png")
    assert (status, json.loads(payload)["error"]["code"]) == (422, "not_a_ct_image")


def test_a_body_over_the_limit_is_413(api):
    status, _, payload = call(api, "POST", "/predict", bytes(MAX_REQUEST_BYTES + 10), "image/png")
    assert (status, json.loads(payload)["error"]["code"]) == (413, "payload_too_large")


def run_client(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLIENT), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("mode", [[], ["--binary"]])
def test_the_client_posts_a_local_file(api, tmp_path, ct_png, mode):
    path = tmp_path / "slice.png"
    path.write_bytes(ct_png)
    result = run_client(
        "--endpoint", f"http://{api[0]}:{api[1]}/predict", "--image", str(path), *mode
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP 200")
    assert json.loads(result.stdout.split("\n", 1)[1])["prediction"] in ("fracture", "normal")


def test_the_client_posts_a_url_and_reports_errors(api, image_server, private_urls):
    endpoint = f"http://{api[0]}:{api[1]}/predict"
    result = run_client("--endpoint", endpoint, "--url", image_server.base + "/photo.jpg")
    assert result.returncode == 1
    assert "not_a_ct_image" in result.stdout


def test_the_client_says_one_line_when_the_endpoint_is_down():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = run_client(
        "--endpoint", f"http://127.0.0.1:{port}/predict", "--url", "https://x/y.png"
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr
