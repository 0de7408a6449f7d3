"""Write the sample events in events/ (python events/generate_events.py, from the repo root).

The image inside the base64 and binary events is a small synthetic CT-like slice drawn by
tests/synthetic.py (nothing from the dataset), 128x128 so the files stay small.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import ct_slice, encode  # noqa: E402

SAMPLES = (
    "https://raw.githubusercontent.com/praveenbalijepalli/mlzoomcamp-capstone-1/main/"
    "sample%20images%20for%20testing/"
)
IMAGE_B64 = base64.b64encode(encode(ct_slice(seed=3, size=128, fracture=False))).decode()
CONTEXT_V1 = {
    "accountId": "123456789012",
    "apiId": "abcdef1234",
    "resourceId": "a1b2c3",
    "stage": "prod",
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "identity": {"sourceIp": "203.0.113.10", "userAgent": "curl/8.5.0"},
}


def v1(method: str, path: str, body: str | None, content_type: str | None, b64: bool) -> dict:
    headers = {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "Accept": "*/*"}
    if content_type:
        headers["Content-Type"] = content_type
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            **CONTEXT_V1,
            "httpMethod": method,
            "path": f"/prod{path}",
            "resourcePath": path,
        },
        "body": body,
        "isBase64Encoded": b64,
    }


def v2(method: str, path: str, body: str | None, content_type: str | None, b64: bool) -> dict:
    headers = {"host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "accept": "*/*"}
    if content_type:
        headers["content-type"] = content_type
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "isBase64Encoded": b64,
    }
    if body is not None:
        event["body"] = body
    return event


def main() -> None:
    json_body = json.dumps({"image": IMAGE_B64})
    files = {
        "direct_url_fracture.json": {"url": SAMPLES + "fracture.png"},
        "direct_url_normal.json": {"url": SAMPLES + "normal.png"},
        "direct_base64.json": {"image": IMAGE_B64},
        "direct_s3.json": {"url": "s3://my-ct-slices/examples/slice-001.png"},
        "apigw_v1_predict_json.json": v1("POST", "/predict", json_body, "application/json", False),
        "apigw_v1_predict_binary.json": v1("POST", "/predict", IMAGE_B64, "image/png", True),
        "apigw_v1_health.json": v1("GET", "/health", None, None, False),
        "apigw_v2_predict_json.json": v2("POST", "/predict", json_body, "application/json", False),
        "apigw_v2_predict_binary.json": v2("POST", "/predict", IMAGE_B64, "image/png", True),
        "apigw_v2_health.json": v2("GET", "/health", None, None, False),
    }
    for name, event in files.items():
        (ROOT / "events" / name).write_text(json.dumps(event, indent=2) + "\n")
        print(name)


if __name__ == "__main__":
    main()
