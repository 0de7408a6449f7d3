"""The input gate cannot be bypassed: every way an image reaches lambda_handler goes through it.

For each event shape (direct base64, API Gateway v1 and v2 with a JSON or a binary body, a URL
fetched from a loopback image server, and the local HTTP API) a non-CT image - a colour
photograph, the same photograph in grayscale, a page of text - is answered 422
not_a_ct_image with the gate's reason, and the classifier is never run. A CT slice is
classified and its answer carries the gate's verdict. Extra fields, headers or query
parameters that ask to skip the check change nothing, nor does a model.json without a gate
section. Loopback URLs need ALLOW_PRIVATE_URLS=1, which the service reads per request (the
`private_urls` fixture sets it for those tests only).
"""

from __future__ import annotations

import base64
import http.client
import json
import threading

import pytest
from PIL import Image, ImageDraw

from tests.synthetic import ct_slice, encode, photo_like


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def text_page() -> Image.Image:
    page = Image.new("L", (256, 256), 240)
    draw = ImageDraw.Draw(page)
    for row in range(14):
        draw.text((12, 8 + 17 * row), "axial CT, C2: no fracture seen", fill=20)
    return page


NON_CT = {
    "colour photo": lambda: encode(photo_like(seed=21), "JPEG", quality=90),
    "gray photo": lambda: encode(photo_like(seed=21).convert("L"), "PNG"),
    "text page": lambda: encode(text_page(), "PNG"),
}


def api_v1(body: str, content_type: str, binary: bool, **extra) -> dict:
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type, **extra.get("headers", {})},
        "queryStringParameters": extra.get("query"),
        "requestContext": {"stage": "prod"},
        "body": body,
        "isBase64Encoded": binary,
    }


def api_v2(body: str, content_type: str, binary: bool, **extra) -> dict:
    query = extra.get("query") or {}
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "queryStringParameters": query or None,
        "headers": {"content-type": content_type, **extra.get("headers", {})},
        "requestContext": {"http": {"method": "POST", "path": "/predict"}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": binary,
    }


def shapes(image: bytes, **extra) -> dict[str, dict]:
    """The same image in every inline event shape; `extra` fields ride along everywhere."""
    fields = extra.get("fields", {})
    content_type = "image/jpeg" if image[:2] == b"\xff\xd8" else "image/png"
    as_json = json.dumps({"image": b64(image), **fields})
    return {
        "direct": {"image": b64(image), **fields},
        "v1-json": api_v1(as_json, "application/json", False, **extra),
        "v1-binary": api_v1(b64(image), content_type, True, **extra),
        "v2-json": api_v2(as_json, "application/json", False, **extra),
        "v2-binary": api_v2(b64(image), content_type, True, **extra),
    }


def answer(response: dict) -> tuple[int, dict]:
    if isinstance(response.get("body"), str):
        return response["statusCode"], json.loads(response["body"])
    body = dict(response)
    return body.pop("statusCode"), body


@pytest.fixture
def classifier_calls(lambda_module, monkeypatch) -> list:
    """Counts calls into the TFLite model; a refused image must never get there."""
    calls: list = []
    original = lambda_module.MODEL.fracture_probability

    def counting(tensor):
        calls.append(tensor.shape)
        return original(tensor)

    monkeypatch.setattr(lambda_module.MODEL, "fracture_probability", counting)
    return calls


def assert_refused(status: int, body: dict, where: str) -> None:
    assert status == 422, (where, status, body)
    assert body["error"]["code"] == "not_a_ct_image", where
    message = body["error"]["message"]
    assert "CT slice" in message and len(message) > 30, where


@pytest.mark.parametrize("name", sorted(NON_CT))
def test_non_ct_images_are_refused_in_every_inline_shape(
    handler, context, classifier_calls, name
) -> None:
    for shape, event in shapes(NON_CT[name]()).items():
        status, body = answer(handler(event, context))
        assert_refused(status, body, f"{name} / {shape}")
    assert classifier_calls == []


def test_the_refusal_names_the_reason(handler, context) -> None:
    _, colour = answer(handler({"image": b64(NON_CT["colour photo"]())}, context))
    _, gray = answer(handler({"image": b64(NON_CT["gray photo"]())}, context))
    assert "colour photograph" in colour["error"]["message"]
    assert "colour" not in gray["error"]["message"]


@pytest.mark.parametrize("name", sorted(NON_CT))
def test_non_ct_images_behind_a_url_are_refused(
    handler, context, image_server, private_urls, classifier_calls, name
) -> None:
    path = "/gate-" + name.replace(" ", "-")
    image_server.routes[path] = NON_CT[name]()
    for event in (
        {"url": image_server.base + path},
        api_v1(json.dumps({"url": image_server.base + path}), "application/json", False),
        api_v2(json.dumps({"url": image_server.base + path}), "application/json", False),
    ):
        assert_refused(*answer(handler(event, context)), f"{name} / url")
    assert classifier_calls == []


BYPASS_ATTEMPTS = {
    "fields": {"skip_gate": True, "input_check": False, "gate": "off", "force": True},
    "headers": {"X-Skip-Gate": "1", "X-Input-Check": "off"},
    "query": {"gate": "off", "skip_gate": "1"},
}


def test_asking_to_skip_the_check_changes_nothing(handler, context, classifier_calls) -> None:
    photo = NON_CT["gray photo"]()
    for shape, event in shapes(photo, **BYPASS_ATTEMPTS).items():
        assert_refused(*answer(handler(event, context)), f"bypass / {shape}")
    assert classifier_calls == []


@pytest.mark.parametrize("section", [None, {}])
def test_a_model_json_without_a_gate_section_still_refuses(
    handler, context, lambda_module, monkeypatch, section
) -> None:
    monkeypatch.setattr(lambda_module.SERVICE, "gate_settings", section)
    assert_refused(*answer(handler({"image": b64(NON_CT["gray photo"]())}, context)), "none")


def test_the_gate_sees_exactly_the_image_the_classifier_sees(
    handler, context, lambda_module, monkeypatch
) -> None:
    import inference.service as service

    gated, classified = [], []
    real_assess, real_predict = service.assess, lambda_module.SERVICE.predict

    def spy_assess(image, settings):
        gated.append(id(image))
        return real_assess(image, settings)

    def spy_predict(image):
        classified.append(id(image))
        return real_predict(image)

    monkeypatch.setattr(service, "assess", spy_assess)
    monkeypatch.setattr(lambda_module.SERVICE, "predict", spy_predict)
    slice_png = encode(ct_slice(seed=31, size=224, fracture=True))
    for shape, event in shapes(slice_png).items():
        gated.clear()
        classified.clear()
        status, body = answer(handler(event, context))
        assert status == 200, (shape, body)
        assert len(gated) == 1 and gated == classified, shape


def test_a_ct_slice_is_classified_and_carries_the_verdict(handler, context) -> None:
    slice_jpeg = encode(ct_slice(seed=32, size=256, mode="RGB"), "JPEG", quality=85)
    for shape, event in shapes(slice_jpeg).items():
        status, body = answer(handler(event, context))
        assert status == 200, (shape, body)
        check = body["input_check"]
        assert check["passed"] is True and 0.5 <= check["score"] <= 1.0, shape
        assert body["prediction"] in ("fracture", "normal")


def test_the_local_api_refuses_too(lambda_module, classifier_calls) -> None:
    from inference.server import create_server

    server = create_server(lambda_module.lambda_handler, "127.0.0.1", 0, threads=1)
    worker = threading.Thread(target=server.run, daemon=True)
    worker.start()
    try:
        for name, make in sorted(NON_CT.items()):
            connection = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
            connection.request(
                "POST", "/predict", body=make(), headers={"Content-Type": "image/png"}
            )
            response = connection.getresponse()
            body = json.loads(response.read())
            connection.close()
            assert_refused(response.status, body, f"{name} / local API")
    finally:
        server.close()
        worker.join(5)
    assert classifier_calls == []
