"""Run the Lambda handler locally, without AWS or Docker.

    python -m inference.cli invoke events/direct_base64.json   # like `sam local invoke -e`
    python -m inference.cli invoke --image slice.png            # classify a local file
    python -m inference.cli serve --port 3000                   # like `sam local start-api`
    python -m inference.cli demo                                # the sample events + a local image

Bad input gives one line on stderr and a non-zero exit, never a stack trace. The handler's
JSON logs are quiet unless --verbose, so what is printed is the answer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

from inference import logs
from inference.events import LocalContext

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
DEMO_EVENTS = ["direct_url_fracture.json", "direct_url_normal.json", "direct_base64.json"]
NETWORK_CODES = {
    "dns_failure",
    "upstream_unreachable",
    "upstream_timeout",
    "upstream_error",
    "upstream_tls_error",
}


class CliError(Exception):
    """A problem to report as one line and exit code 2."""


def load_handler():
    """lambda_function.lambda_handler, with the model loaded (or CliError saying why not)."""
    from inference.errors import ModelError

    if str(ROOT) not in sys.path:  # lambda_function.py sits beside inference/, as in Lambda
        sys.path.insert(0, str(ROOT))
    try:
        import lambda_function
    except ModelError as exc:
        raise CliError(f"the model cannot be loaded: {exc}") from None
    return lambda_function.lambda_handler


def read_event(path: str) -> dict:
    try:
        event = json.loads(Path(path).read_text())
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None
    return event


def image_event(path: str) -> dict:
    """A direct {"image": base64} event for a local file (read at most just over the cap)."""
    from inference.service import Limits

    try:
        with open(path, "rb") as handle:
            data = handle.read(Limits.from_env().max_bytes + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    return {"image": base64.b64encode(data).decode("ascii")}


def invoke(event: dict) -> dict:
    return load_handler()(event, LocalContext(str(uuid.uuid4())))


def status_of(response: dict) -> int:
    return int(response.get("statusCode", 200))


def body_of(response: dict) -> dict:
    """The answer inside a response, whichever event shape produced it."""
    if isinstance(response.get("body"), str):
        try:
            return json.loads(response["body"])
        except ValueError:
            return {}
    return {k: v for k, v in response.items() if k != "statusCode"}


def summary(response: dict) -> str:
    """One line for a human: the prediction, or the error."""
    body = body_of(response)
    if "prediction" in body:
        check = body.get("input_check", {})
        return (
            f"{body['prediction']}  P(fracture)={body['fracture_probability']:.3f} "
            f"(threshold {body['threshold']:.2f}), input check score {check.get('score', '?')}, "
            f"model {body['model']['name']} {body['model']['version']}"
        )
    error = body.get("error", {})
    return f"HTTP {status_of(response)} {error.get('code')}: {error.get('message')}"


def run_invoke(args: argparse.Namespace) -> int:
    if bool(args.event) == bool(args.image):
        raise CliError("give an event file or --image PATH (one of them)")
    event = image_event(args.image) if args.image else read_event(args.event)
    response = invoke(event)
    print(json.dumps(response, indent=2 if args.pretty else None))
    return 0 if status_of(response) < 400 else 1


def run_serve(args: argparse.Namespace) -> int:
    from inference.server import create_server

    handler = load_handler()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, not only on this machine", file=sys.stderr)
    try:
        server = create_server(handler, host=args.host, port=args.port, threads=args.threads)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    url = f"http://{args.host}:{server.effective_port}"
    print(f"serving POST /predict and GET /health on {url}", file=sys.stderr, flush=True)
    try:
        server.run()
    finally:
        server.close()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    handler = load_handler()
    failures = 0
    for name in DEMO_EVENTS:
        event = read_event(str(EVENTS / name))
        response = handler(event, LocalContext(str(uuid.uuid4())))
        code = body_of(response).get("error", {}).get("code")
        if code in NETWORK_CODES and "url" in event:
            host = event["url"].split("/")[2]
            print(
                f"{name}: skipped, cannot reach {host} (offline?): "
                f"{body_of(response)['error']['message']}"
            )
            continue
        failures += status_of(response) >= 400
        print(f"{name}: {summary(response)}")
    try:
        sys.path.insert(0, str(ROOT))
        from tests.synthetic import ct_slice, encode
    except ImportError:
        print("local image: skipped, tests/synthetic.py is not here to draw one")
        return 1 if failures else 0
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "generated_ct_slice.png")
        Path(path).write_bytes(encode(ct_slice(seed=7, size=256, fracture=True)))
        response = handler(image_event(path), LocalContext(str(uuid.uuid4())))
    failures += status_of(response) >= 400
    print(f"generated local image (synthetic drawing, not a real scan): {summary(response)}")
    return 1 if failures else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m inference.cli", description=__doc__.split("\n")[0]
    )
    top.add_argument("--verbose", action="store_true", help="show the handler's JSON logs")
    commands = top.add_subparsers(dest="command", required=True)
    p = commands.add_parser("invoke", help="run the handler on an event file or a local image")
    p.add_argument("event", nargs="?", help="an event JSON file (see events/)")
    p.add_argument("--image", help="a local PNG or JPEG to classify")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(run=run_invoke)
    p = commands.add_parser("serve", help="local API: POST /predict, GET /health")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(run=run_serve)
    p = commands.add_parser("demo", help="the sample events, then a generated local image")
    p.set_defaults(run=run_demo)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.logger.setLevel("INFO" if args.verbose else "CRITICAL")
    try:
        return args.run(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
