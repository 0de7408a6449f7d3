"""lambda_function.lambda_handler end to end with the shipped model: every event shape, every
error status, the gate in every path, and the same answer whichever way an image arrives."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest

from inference.images import decode_image
from inference.preprocessing import image_to_tensor
from tests.synthetic import ct_slice, encode, photo_like

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
NETWORK_CODES = {"dns_failure", "upstream_unreachable", "upstream_timeout", "upstream_error"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def api_v1(
    body: str | None, content_type: str, b64_encoded: bool = False, path="/predict", method="POST"
) -> dict:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": content_type},
        "requestContext": {"stage": "prod"},
        "body": body,
        "isBase64Encoded": b64_encoded,
    }


def api_v2(
    body: str | None, content_type: str, b64_encoded: bool = False, path="/predict", method="POST"
) -> dict:
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "headers": {"content-type": content_type},
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": b64_encoded,
    }


def answer(response: dict) -> tuple[int, dict]:
    """(status, body) from a direct or an API Gateway response."""
    if "body" in response and isinstance(response["body"], str):
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])
    body = dict(response)
    return body.pop("statusCode"), body


def every_shape(image: bytes, content_type: str = "image/png") -> dict[str, dict]:
    """The same image as a direct base64 event, JSON bodies (v1, v2) and binary bodies."""
    as_json = json.dumps({"image": b64(image)})
    return {
        "direct": {"image": b64(image)},
        "v1-json": api_v1(as_json, "application/json"),
        "v1-binary": api_v1(b64(image), content_type, True),
        "v2-json": api_v2(as_json, "application/json"),
        "v2-binary": api_v2(b64(image), content_type, True),
    }


def test_the_model_is_loaded_once_with_the_chosen_runtime(lambda_module):
    wanted = os.environ.get("TFLITE_RUNTIME")
    assert lambda_module.MODEL.runtime in ("ai-edge-litert", "tflite-runtime")
    if wanted:
        assert lambda_module.MODEL.runtime == wanted


def test_success_body_follows_the_contract(handler, context, ct_png, lambda_module):
    status, body = answer(handler({"image": b64(ct_png)}, context))
    card = lambda_module.MODEL.card
    assert status == 200
    assert body["prediction"] in ("fracture", "normal")
    assert 0.0 <= body["fracture_probability"] <= 1.0
    assert body["threshold"] == card.threshold
    assert body["model"] == {"name": card.name, "version": card.version}
    assert body["input_check"]["passed"] is True
    expected = "fracture" if body["fracture_probability"] >= card.threshold else "normal"
    assert body["prediction"] == expected
    assert "Predict Probability" not in body


def test_the_handler_gives_the_models_own_probability(handler, context, ct_png, lambda_module):
    """Same decode and preprocessing as training, then P(fracture) straight from the model."""
    model = lambda_module.MODEL
    tensor = image_to_tensor(decode_image(ct_png), model.card.preprocessing, model.card.input_size)
    expected = model.fracture_probability(tensor)
    _, body = answer(handler({"image": b64(ct_png)}, context))
    assert body["fracture_probability"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("image_kind", ["png-gray", "jpeg-rgb"])
def test_every_event_shape_gives_the_same_answer(handler, context, ct_png, ct_jpeg, image_kind):
    image = ct_png if image_kind == "png-gray" else ct_jpeg
    content_type = "image/png" if image_kind == "png-gray" else "image/jpeg"
    bodies = {}
    for shape, event in every_shape(image, content_type).items():
        status, body = answer(handler(event, context))
        assert status == 200, (shape, body)
        bodies[shape] = body
    probabilities = {round(b["fracture_probability"], 6) for b in bodies.values()}
    assert len(probabilities) == 1, bodies


def test_sample_events_run(handler, context):
    """Every file in events/ answers; URL events reach the internet or fail with one 5xx."""
    names = sorted(p.name for p in EVENTS.glob("*.json"))
    assert len(names) >= 10
    for name in names:
        status, body = answer(handler(json.loads((EVENTS / name).read_text()), context))
        if name.startswith("direct_url"):
            assert status == 200 or body["error"]["code"] in NETWORK_CODES, (name, body)
        elif name == "direct_s3.json":
            assert (status, body["error"]["code"]) == (403, "s3_bucket_not_allowed")
        elif "health" in name:
            assert status == 200 and body["status"] == "ok"
        else:
            assert status == 200 and body["prediction"] in ("fracture", "normal"), (name, body)


@pytest.mark.parametrize("shape", ["v1", "v2"])
def test_health_answers_without_inference(handler, context, lambda_module, monkeypatch, shape):
    def no_inference(tensor):
        raise AssertionError("health must not run the model")

    monkeypatch.setattr(lambda_module.MODEL, "fracture_probability", no_inference)
    event = (api_v1 if shape == "v1" else api_v2)(None, "", path="/health", method="GET")
    status, body = answer(handler(event, context))
    card = lambda_module.MODEL.card
    assert status == 200
    assert body["model"] == {"name": card.name, "version": card.version}


# --- the input gate cannot be bypassed ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_photo_is_refused_in_every_shape(handler, context, fmt, lambda_module, monkeypatch):
    calls = []
    monkeypatch.setattr(lambda_module.MODEL, "fracture_probability", lambda t: calls.append(1))
    photo = encode(photo_like(seed=9), fmt)
    for shape, event in every_shape(photo, f"image/{fmt.lower()}").items():
        status, body = answer(handler(event, context))
        assert (status, body["error"]["code"]) == (422, "not_a_ct_image"), shape
        assert body["error"]["message"].endswith(".")
    assert calls == []  # the classifier never saw a refused image


def test_a_photo_behind_a_url_is_refused(handler, context, image_server, private_urls):
    status, body = answer(handler({"url": image_server.base + "/photo.jpg"}, context))
    assert (status, body["error"]["code"]) == (422, "not_a_ct_image")


def test_a_ct_slice_behind_a_url_is_classified(handler, context, image_server, private_urls):
    status, body = answer(handler({"url": image_server.base + "/ct.png?token=x"}, context))
    assert status == 200 and body["input_check"]["passed"] is True


# --- every error status through the handler -------------------------------------------------


def test_400_malformed(handler, context):
    status, body = answer(handler(api_v1("{oops", "application/json"), context))
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    status, body = answer(handler({"image": "%%%"}, context))
    assert (status, body["error"]["code"]) == (400, "invalid_base64")
    status, body = answer(handler({"image": b64(encode(ct_slice(size=128))[:300])}, context))
    assert (status, body["error"]["code"]) == (400, "invalid_image")
    status, body = answer(handler({"url": "file:///etc/passwd"}, context))
    assert (status, body["error"]["code"]) == (400, "unsupported_url_scheme")


def test_403_private_address(handler, context, monkeypatch):
    monkeypatch.delenv("ALLOW_PRIVATE_URLS", raising=False)
    status, body = answer(handler({"url": "http://169.254.169.254/latest/meta-data/"}, context))
    assert (status, body["error"]["code"]) == (403, "url_not_allowed")


def test_404_route_and_missing_image(handler, context, image_server, private_urls):
    status, _ = answer(handler(api_v2(None, "", path="/nope", method="GET"), context))
    assert status == 404
    status, body = answer(handler({"url": image_server.base + "/status/404"}, context))
    assert (status, body["error"]["code"]) == (404, "image_not_found")


def test_405_method(handler, context):
    response = handler(api_v1(None, "", path="/predict", method="GET"), context)
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "POST"


def test_413_too_large(handler, context, monkeypatch):
    monkeypatch.setenv("MAX_IMAGE_BYTES", "50000")
    status, body = answer(handler({"image": b64(b"\x89PNG\r\n\x1a\n" + bytes(60_000))}, context))
    assert (status, body["error"]["code"]) == (413, "image_too_large")


def test_415_not_an_image(handler, context):
    status, body = answer(handler({"image": b64(b"GIF89a" + bytes(500))}, context))
    assert (status, body["error"]["code"]) == (415, "unsupported_image_type")
    status, _ = answer(handler(api_v1("hello", "text/plain"), context))
    assert status == 415


def test_422_too_small(handler, context):
    status, body = answer(handler({"image": b64(encode(ct_slice(size=24)))}, context))
    assert (status, body["error"]["code"]) == (422, "image_too_small")


def test_502_and_504_upstream(handler, context, image_server, private_urls, monkeypatch):
    status, body = answer(handler({"url": image_server.base + "/status/500"}, context))
    assert (status, body["error"]["code"]) == (502, "upstream_http_error")
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "1")
    status, body = answer(handler({"url": image_server.base + "/hang"}, context))
    assert (status, body["error"]["code"]) == (504, "upstream_timeout")


def test_error_bodies_are_one_object_with_code_and_sentence(handler, context):
    status, body = answer(handler(api_v2('{"url": 1}', "application/json"), context))
    assert status == 400
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"].replace("_", "").isalpha()


def test_a_bug_is_a_500_without_a_stack_trace(handler, context, lambda_module, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(lambda_module.SERVICE, "classify", broken)
    for event in ({"image": "AAAA"}, api_v1('{"image": "AAAA"}', "application/json")):
        response = handler(event, context)
        status, body = answer(response)
        assert (status, body["error"]["code"]) == (500, "internal_error")
        assert "Traceback" not in json.dumps(response)
        assert "secret internals" not in json.dumps(response)


def test_no_context_is_needed(handler, ct_png):
    status, _ = answer(handler({"image": b64(ct_png)}, None))
    assert status == 200


def test_probability_is_a_plain_float(handler, context, ct_png):
    _, body = answer(handler({"image": b64(ct_png)}, context))
    assert type(body["fracture_probability"]) is float
    assert not np.isnan(body["fracture_probability"])
