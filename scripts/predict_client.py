"""POST an image URL or a local image file to the classifier, wherever it runs.

    python scripts/predict_client.py --url https://example.com/slice.png
    python scripts/predict_client.py --image slice.png                      # JSON {"image": b64}
    python scripts/predict_client.py --image slice.png --binary             # raw image/png body
    python scripts/predict_client.py --endpoint "$API_URL/predict" --url https://...  # API Gateway
    python scripts/predict_client.py --image x.png \
        --endpoint http://localhost:9000/2015-03-31/functions/function/invocations      # emulator

The default endpoint is the local server (`make serve`). An endpoint ending in /invocations is
the Lambda runtime interface emulator: it receives the direct event itself. The successor of
the original project's predict_test.py; standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_ENDPOINT = "http://127.0.0.1:3000/predict"
CONTENT_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def build_request(args: argparse.Namespace) -> urllib.request.Request:
    """The HTTP request for the chosen endpoint and input."""
    headers = {"Content-Type": "application/json"}
    if args.url:
        data = json.dumps({"url": args.url}).encode()
    else:
        try:
            image = Path(args.image).read_bytes()
        except OSError as exc:
            raise SystemExit(f"error: cannot read {args.image}: {exc.strerror or exc}") from None
        if args.binary and not args.endpoint.endswith("/invocations"):
            content_type = next(
                (t for magic, t in CONTENT_TYPES.items() if image.startswith(magic)), None
            )
            if content_type is None:
                raise SystemExit(f"error: {args.image} is neither PNG nor JPEG")
            headers["Content-Type"] = content_type
            data = image
        else:
            data = json.dumps({"image": base64.b64encode(image).decode("ascii")}).encode()
    if args.api_key:
        headers["x-api-key"] = args.api_key
    return urllib.request.Request(args.endpoint, data=data, headers=headers, method="POST")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="an http(s) or s3 URL of a PNG/JPEG CT slice")
    source.add_argument("--image", help="a local PNG/JPEG file")
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help=f"default {DEFAULT_ENDPOINT}")
    parser.add_argument("--binary", action="store_true", help="send the file as a raw body")
    parser.add_argument("--api-key", help="API Gateway API key (x-api-key header)")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    request = build_request(args)
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: cannot reach {args.endpoint}: {reason}", file=sys.stderr)
        return 2
    try:
        body = json.loads(text)
    except ValueError:
        print(f"HTTP {status}: {text[:500]}")
        return 1
    if isinstance(body, dict) and "statusCode" in body:  # the emulator returns the event result
        status = int(body.pop("statusCode"))
        if isinstance(body.get("body"), str):
            body = json.loads(body["body"])
    print(f"HTTP {status}")
    print(json.dumps(body, indent=2))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
