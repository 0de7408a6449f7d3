"""The handler's logs: JSON lines with the request id, input kind, timings, prediction and
model version; never image bytes, never a URL's query string."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest


def log_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"level"' in line:
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def logged(lambda_module):
    """Run the handler and return its log lines, formatted exactly as Lambda would see them."""
    logger = lambda_module.logger
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    logger.setLevel("INFO")

    def run(event, context):
        stream.seek(0)
        stream.truncate()
        response = lambda_module.lambda_handler(event, context)
        return response, log_lines(stream.getvalue())

    yield run
    logger._logger.removeHandler(handler)


def test_a_classification_is_logged_with_request_id_timings_and_prediction(logged, context, ct_png):
    response, lines = logged({"image": base64.b64encode(ct_png).decode()}, context)
    assert response["statusCode"] == 200
    assert lines and all(line["request_id"] == context.aws_request_id for line in lines)
    classified = next(line for line in lines if line["message"] == "classified")
    assert classified["input_kind"] == "base64"
    assert classified["prediction"] == response["prediction"]
    assert classified["model_version"] == response["model"]["version"]
    for timing in ("fetch_ms", "decode_ms", "gate_ms", "inference_ms"):
        assert classified[timing] >= 0
    assert classified["gate"] == response["input_check"]
    assert classified["gate"]["passed"] is True


def test_a_gate_refusal_is_logged_with_its_reason(logged, context, photo_png):
    response, lines = logged({"image": base64.b64encode(photo_png).decode()}, context)
    assert response["error"]["code"] == "not_a_ct_image"
    gate = next(line for line in lines if line["message"] == "input gate refused the image")
    assert gate["gate"]["passed"] is False
    assert gate["gate"]["reason"] in response["error"]["message"]


def test_no_image_bytes_in_the_logs(logged, context, ct_png, photo_png):
    for image in (ct_png, photo_png):
        text = base64.b64encode(image).decode()
        _, lines = logged({"image": text}, context)
        dumped = json.dumps(lines)
        assert text[:64] not in dumped and text[-64:] not in dumped


def test_urls_are_logged_without_query_or_credentials(logged, context, image_server, private_urls):
    url = image_server.base + "/ct.png?X-Amz-Signature=SECRET123&patient=JaneDoe#frag"
    response, lines = logged({"url": url}, context)
    assert response["statusCode"] == 200
    dumped = json.dumps(lines)
    assert "SECRET123" not in dumped and "JaneDoe" not in dumped
    assert any(line.get("source") == image_server.base + "/ct.png" for line in lines)


def test_a_refusal_is_logged_with_its_code(logged, context):
    response, lines = logged({"url": "http://169.254.169.254/latest/?token=abc"}, context)
    refused = next(line for line in lines if line["message"] == "request refused")
    assert refused["error_code"] == response["error"]["code"] == "url_not_allowed"
    assert refused["status"] == 403
    assert "token=abc" not in json.dumps(lines)


def test_request_keys_do_not_leak_into_the_next_request(logged, context, ct_png):
    logged({"url": "http://10.0.0.1/a.png"}, context)
    _, lines = logged({"image": base64.b64encode(ct_png).decode()}, context)
    assert all(line.get("source") is None for line in lines)
    assert all(line["input_kind"] == "base64" for line in lines if "input_kind" in line)


def test_allowing_private_urls_is_logged_as_a_warning(logged, context, image_server, private_urls):
    _, lines = logged({"url": image_server.base + "/ct.png"}, context)
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert warnings and "ALLOW_PRIVATE_URLS" in warnings[0]["message"]


def test_no_warning_when_private_urls_stay_blocked(logged, context, monkeypatch):
    monkeypatch.delenv("ALLOW_PRIVATE_URLS", raising=False)
    _, lines = logged({"url": "http://10.0.0.1/a.png"}, context)
    assert all(line["level"] != "WARNING" for line in lines)
