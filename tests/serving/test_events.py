"""inference.events: every event shape recognised, every malformed request a 4xx (no model)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from inference.errors import RequestError
from inference.events import (
    API_V1,
    API_V2,
    DIRECT,
    error_response,
    event_shape,
    parse_event,
    shape_response,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def v1(method="POST", path="/predict", body=None, content_type="application/json", b64=False):
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": headers,
        "requestContext": {"stage": "prod"},
        "body": body,
        "isBase64Encoded": b64,
    }


def v2(
    method="POST",
    path="/predict",
    body=None,
    content_type="application/json",
    b64=False,
    stage="$default",
):
    headers = {"content-type": content_type} if content_type else {}
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "headers": headers,
        "requestContext": {"http": {"method": method}, "stage": stage},
        "body": body,
        "isBase64Encoded": b64,
    }


def refusal(event) -> RequestError:
    with pytest.raises(RequestError) as caught:
        parse_event(event)
    return caught.value


@pytest.mark.parametrize(
    ("name", "shape", "route", "kind"),
    [
        ("direct_url_fracture.json", DIRECT, "predict", "url"),
        ("direct_url_normal.json", DIRECT, "predict", "url"),
        ("direct_base64.json", DIRECT, "predict", "base64"),
        ("direct_s3.json", DIRECT, "predict", "s3"),
        ("apigw_v1_predict_json.json", API_V1, "predict", "base64"),
        ("apigw_v1_predict_binary.json", API_V1, "predict", "upload"),
        ("apigw_v1_health.json", API_V1, "health", None),
        ("apigw_v2_predict_json.json", API_V2, "predict", "base64"),
        ("apigw_v2_predict_binary.json", API_V2, "predict", "upload"),
        ("apigw_v2_health.json", API_V2, "health", None),
    ],
)
def test_every_sample_event_is_recognised(name, shape, route, kind):
    request = parse_event(load(name))
    assert (request.shape, request.route) == (shape, route)
    assert (request.source.kind if request.source else None) == kind


def test_binary_upload_carries_the_decoded_image_bytes():
    request = parse_event(load("apigw_v1_predict_binary.json"))
    assert request.source.value.startswith(b"\x89PNG")


def test_v2_stage_prefix_is_stripped():
    assert parse_event(v2("GET", "/prod/health", stage="prod")).route == "health"


def test_a_base64_encoded_json_body_is_read():
    body = base64.b64encode(json.dumps({"url": "https://example.com/x.png"}).encode()).decode()
    request = parse_event(v1(body=body, b64=True))
    assert (request.source.kind, request.source.value) == ("url", "https://example.com/x.png")


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"url": "https://a/b.png", "image": "AAAA"},
        {"url": 42},
        {"image": ["x"]},
        {"url": ""},
        [],
        "https://example.com/x.png",
        None,
        v1(body="{not json"),
        v1(body="[1, 2]"),
        v1(body=None),
        v2(body='{"image": "AAAA", "url": "https://x/y.png"}'),
        v1(body="@@@", content_type="image/png", b64=True),
        v1(body="raw bytes mangled to text", content_type="image/png", b64=False),
    ],
)
def test_malformed_requests_are_400(event):
    assert refusal(event).status == 400


@pytest.mark.parametrize(
    "event", [v1(path="/admin"), v2(path="/"), v1(path="/predict/../health/x")]
)
def test_unknown_routes_are_404(event):
    assert (refusal(event).status, refusal(event).code) == (404, "route_not_found")


@pytest.mark.parametrize(
    ("event", "allow"),
    [
        (v1("GET", "/predict"), "POST"),
        (v2("DELETE", "/predict"), "POST"),
        (v1("POST", "/health"), "GET, HEAD"),
    ],
)
def test_wrong_methods_are_405_with_allow(event, allow):
    error = refusal(event)
    assert (error.status, error.code) == (405, "method_not_allowed")
    assert error_response(API_V1, error)["headers"]["Allow"] == allow


@pytest.mark.parametrize("content_type", ["text/plain", "image/gif", "multipart/form-data"])
def test_unsupported_content_types_are_415(content_type):
    assert refusal(v1(body="x", content_type=content_type)).status == 415


def test_an_oversized_body_is_413_before_decoding():
    error = refusal(v1(body="A" * 15_000_000, content_type="image/png", b64=True))
    assert (error.status, error.code) == (413, "image_too_large")


def test_direct_responses_are_dicts_and_api_responses_carry_json():
    assert shape_response(DIRECT, 200, {"a": 1}) == {"statusCode": 200, "a": 1}
    response = shape_response(API_V2, 422, {"error": {"code": "x", "message": "y"}}, "rid")
    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["X-Request-Id"] == "rid"
    assert json.loads(response["body"]) == {"error": {"code": "x", "message": "y"}}


@pytest.mark.parametrize(
    ("event", "shape"),
    [({"url": "x"}, DIRECT), (v1(), API_V1), (v2(), API_V2), ([], DIRECT), (None, DIRECT)],
)
def test_event_shape(event, shape):
    assert event_shape(event) == shape


def test_sample_events_stay_small_and_carry_synthetic_images_only():
    """Events are generated by events/generate_events.py (128x128 synthetic slices)."""
    images = 0
    for path in EVENTS.glob("*.json"):
        assert path.stat().st_size < 64_000, path.name
        event = json.loads(path.read_text())
        if "image" in event:
            encoded = event["image"]
        elif event.get("isBase64Encoded"):
            encoded = event["body"]
        elif event.get("body"):
            encoded = json.loads(event["body"]).get("image")
        else:
            continue
        data = base64.b64decode(encoded)
        assert data.startswith(b"\x89PNG"), path.name
        assert data[16:24] == (128).to_bytes(4, "big") * 2, path.name  # IHDR width, height
        images += 1
    assert images == 5
