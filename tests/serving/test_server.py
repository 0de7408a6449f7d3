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


def test_concurrent_requests_share_one_interpreter_safely(api, ct_png, photo_png):
    """Eight requests at once (two server threads): each gets its own, correct answer."""
    expected_ct = json.loads(call(api, "POST", "/predict", ct_png, "image/png")[2])
    results: list[tuple[int, dict]] = [None] * 8  # type: ignore[list-item]

    def post(index: int) -> None:
        image = ct_png if index % 2 == 0 else photo_png
        status, _, payload = call(api, "POST", "/predict", image, "image/png")
        results[index] = (status, json.loads(payload))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for index, (status, body) in enumerate(results):
        if index % 2 == 0:
            assert status == 200
            assert body["fracture_probability"] == pytest.approx(
                expected_ct["fracture_probability"]
            )
        else:
            assert (status, body["error"]["code"]) == (422, "not_a_ct_image")


@pytest.fixture(scope="module")
def emulator(lambda_module):
    """A stand-in for the Lambda runtime interface emulator: the POST body is the event."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Invocations(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(lambda_module.lambda_handler(event, None)).encode()
            self.send_response(200)  # the emulator answers 200 whatever the function returns
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/2015-03-31/functions/function/invocations"
    server.shutdown()
    server.server_close()


def test_the_client_speaks_to_the_emulator_with_direct_events(emulator, tmp_path, ct_png):
    path = tmp_path / "slice.png"
    path.write_bytes(ct_png)
    result = run_client("--endpoint", emulator, "--image", str(path), "--binary")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.split("\n", 1)[1])["prediction"] in ("fracture", "normal")
    result = run_client("--endpoint", emulator, "--url", "http://169.254.169.254/")
    assert result.returncode == 1 and result.stdout.startswith("HTTP 403")


def test_the_serve_command_end_to_end():
    """`python -m inference.cli serve` itself: listens on loopback, answers, stops cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inference.cli", "serve", "--port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = ""
        while "serving" not in line:
            line = process.stderr.readline()
            assert line, "the server exited before listening"
        address = line.rsplit("http://", 1)[1].strip()
        host, port = address.rsplit(":", 1)
        assert host == "127.0.0.1"
        status, _, payload = call((host, int(port)), "GET", "/health")
        assert status == 200 and json.loads(payload)["status"] == "ok"
    finally:
        process.terminate()
        process.wait(10)
