"""Through the handler, every upstream fault is an error object with its status, never a raise.

The same misbehaving server as test_upstream_faults.py, but driven the way callers drive the
function: a direct invocation and an API Gateway REST event. The deadline comes from env
FETCH_TIMEOUT_SECONDS, as an operator would set it.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.reliability.upstream_contract import DNS_FAILURE, DNS_FAILURE_URL, FAULT_MATRIX

DEADLINE_S = 2.0  # set by the fetch_limits fixture
SLACK_S = 1.5

pytestmark = pytest.mark.usefixtures("fetch_limits")


def api_event(body: dict) -> dict:
    return {
        "httpMethod": "POST",
        "path": "/predict",
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "reliability-test", "stage": "prod"},
    }


def assert_error_object(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message and "Traceback" not in message


@pytest.mark.parametrize("path", FAULT_MATRIX)
def test_a_direct_invocation_answers_each_fault_with_its_error_object(
    handler, context, upstream, path
):
    status, code = FAULT_MATRIX[path]
    started = time.monotonic()

    response = handler({"url": upstream.url(path)}, context)

    assert response.pop("statusCode") == status
    assert_error_object(response, code)
    assert time.monotonic() - started < DEADLINE_S + SLACK_S


@pytest.mark.parametrize("path", ["/trickle", "/reset-mid-body", "/gzip-bomb", "/not-found"])
def test_an_api_gateway_request_answers_each_fault_with_its_status_and_json_error(
    handler, context, upstream, path
):
    status, code = FAULT_MATRIX[path]

    response = handler(api_event({"url": upstream.url(path)}), context)

    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    assert_error_object(json.loads(response["body"]), code)


def test_a_dns_failure_is_an_upstream_error(handler, context):
    response = handler({"url": DNS_FAILURE_URL}, context)

    assert response.pop("statusCode") == DNS_FAILURE[0]
    assert_error_object(response, DNS_FAILURE[1])


def test_a_valid_image_served_with_a_wrong_content_type_is_classified(handler, context, upstream):
    response = handler({"url": upstream.url("/wrong-type.png")}, context)

    assert response["statusCode"] == 200, response
    assert response["prediction"] in ("fracture", "normal")
    assert 0.0 <= response["fracture_probability"] <= 1.0


def test_the_deadline_comes_from_the_environment(handler, context, upstream, monkeypatch):
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "1")
    started = time.monotonic()

    response = handler({"url": upstream.url("/trickle")}, context)

    assert response["statusCode"] == 504
    assert 0.8 <= time.monotonic() - started < 1.0 + SLACK_S
