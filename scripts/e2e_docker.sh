#!/usr/bin/env bash
# End to end with Docker, the way a user runs the image (docs/CONTAINER.md):
#   stand-in base images -> docker build (both variants) -> docker run -p + curl
#   -> sam build -> sam local invoke -e events/... -> sam local start-api + POST (JSON and raw PNG).
# Needs a running dockerd (legacy builder) and .venv/.venv-sam (make setup setup-sam).
# Exit status 0 only when every step answered as expected.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0 SAM_CLI_TELEMETRY=0
PY=.venv/bin/python
SAM=.venv-sam/bin/sam
IMAGE=${IMAGE:-cervical-fracture}
INVOKE=/2015-03-31/functions/function/invocations
WORK=$(mktemp -d)
CONTAINER=""
API_PID=""

cleanup() {
  [ -n "$CONTAINER" ] && docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# expect FILE KIND RUNTIME: the response in FILE is a 200 classification (KIND=direct|proxy|raw).
expect() {
  "$PY" - "$@" <<'EOF'
import json, sys
path, kind = sys.argv[1], sys.argv[2]
payload = json.loads(open(path).read())
if kind == "proxy":
    assert payload["statusCode"] == 200, payload
    payload = json.loads(payload["body"])
elif kind == "direct":
    assert payload["statusCode"] == 200, payload
p = payload["fracture_probability"]
assert 0.0 <= p <= 1.0 and payload["prediction"] in ("fracture", "normal"), payload
print(f"   ok: {payload['prediction']} (P(fracture) = {p:.4f})")
EOF
}

wait_for() {  # wait_for URL SECONDS
  for _ in $(seq "$2"); do
    curl -s -o /dev/null "$1" && return 0
    sleep 1
  done
  echo "nothing answered at $1" >&2
  return 1
}

docker info >/dev/null 2>&1 || { echo "no running dockerd: start one (dockerd &) or skip e2e-docker" >&2; exit 3; }
"$PY" -c 'import base64, json; e = json.load(open("events/apigw_v1_predict_binary.json")); open("'"$WORK"'/slice.png", "wb").write(base64.b64decode(e["body"]))'

for version in 3.13 3.11; do
  step "stand-in base image public.ecr.aws/lambda/python:$version"
  "$PY" -m scripts.standin_image "$version"
done

step "docker build (default: Python 3.13 + ai-edge-litert)"
docker build -q -t "$IMAGE:python3.13" . >/dev/null
step "docker build (legacy: Python 3.11 + tflite-runtime 2.14)"
docker build -q --build-arg PYTHON_VERSION=3.11 --build-arg REQUIREMENTS=requirements/lambda-legacy.txt \
  -t "$IMAGE:python3.11" . >/dev/null
docker image ls "$IMAGE"

for tag in python3.13 python3.11; do
  step "docker run -p 127.0.0.1:PORT:8080 $IMAGE:$tag + curl"
  port=$(free_port)
  CONTAINER=$(docker run -d --rm -p "127.0.0.1:$port:8080" "$IMAGE:$tag")
  sleep 1
  curl -sS -XPOST "localhost:$port$INVOKE" -d @events/direct_base64.json -o "$WORK/run.json"
  expect "$WORK/run.json" direct
  curl -sS -XPOST "localhost:$port$INVOKE" -d @events/apigw_v1_predict_binary.json -o "$WORK/run.json"
  expect "$WORK/run.json" proxy
  docker rm -f "$CONTAINER" >/dev/null
  CONTAINER=""
done

step "sam build"
"$SAM" build
step "sam local invoke -e events/direct_base64.json"
"$SAM" local invoke FractureFunction -e events/direct_base64.json >"$WORK/invoke.json" 2>"$WORK/invoke.log" \
  || { cat "$WORK/invoke.log"; exit 1; }
expect "$WORK/invoke.json" direct

step "sam local start-api + POST /predict (JSON, then a raw image/png body) and GET /health"
port=$(free_port)
"$SAM" local start-api --host 127.0.0.1 --port "$port" >"$WORK/api.log" 2>&1 &
API_PID=$!
wait_for "localhost:$port/health" 120 || { cat "$WORK/api.log"; exit 1; }
curl -sS -XPOST "localhost:$port/predict" -H 'Content-Type: application/json' -d @events/direct_base64.json \
  -o "$WORK/api.json"
expect "$WORK/api.json" raw
curl -sS -XPOST "localhost:$port/predict" -H 'Content-Type: image/png' --data-binary @"$WORK/slice.png" \
  -o "$WORK/api.json"
expect "$WORK/api.json" raw
curl -sS "localhost:$port/health" | grep -q '"status": "ok"' && echo "   ok: /health"

printf '\ne2e-docker: every step passed\n'
