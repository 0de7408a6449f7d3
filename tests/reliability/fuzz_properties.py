"""Hostile input for the handler and the image decoder, and what every answer must look like.

The strategies generate what a caller on the internet can send: arbitrary JSON-ish events,
API Gateway events with odd methods, paths, headers and bodies, URLs in the encodings SSRF
attempts use, arbitrary bytes as images, and valid PNG/JPEG files mutated byte by byte.

The property is the API contract itself: every answer is a success body or a documented error
object with its status; nothing raises, nothing takes longer than TIME_LIMIT_S. The CI test
(test_fuzzing.py) and the long benchmark (bench/fuzz.py) check the very same properties.

Fuzzing must not send traffic anywhere: `offline_fetch()` replaces name resolution with a
stand-in that knows only numeric addresses, and refuses public ones as unresolvable, so a
generated URL can reach neither a DNS server nor the internet; private addresses stay subject
to the real SSRF block (ALLOW_PRIVATE_URLS is unset).
"""

from __future__ import annotations

import base64
import contextlib
import io
import ipaddress
import json
import os
import re
import socket
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from inference import fetch
from inference.errors import RequestError, UpstreamError
from inference.events import LocalContext
from inference.images import decode_image
from tests.synthetic import ct_slice, encode, photo_like

TIME_LIMIT_S = 15.0  # no single answer may take longer (the fetch deadline is 10 s)
DOCUMENTED_ERROR_STATUSES = {400, 403, 404, 405, 413, 415, 422, 502, 504}
DECODER_ERROR_STATUSES = {400, 413, 415, 422}
ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CONTEXT = LocalContext(aws_request_id="fuzz")

examples_run: Counter = Counter()  # property name -> examples checked, read by bench/fuzz.py
outcomes: Counter = Counter()  # "200 fracture" / "422 not_a_ct_image" ... -> how often


def fuzz_settings(examples: int, *, derandomize: bool = False) -> settings:
    """No per-example deadline (a shared 2-core machine jitters); TIME_LIMIT_S is checked.

    CI derandomizes (the same examples every run, so a red build is reproducible and never
    a coin toss); the long benchmark explores with fresh randomness each time.
    """
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# -- no network while fuzzing -----------------------------------------------------------------


def _numeric_only_resolve(host: str, port: int, timeout: float) -> list:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError) as exc:
        raise UpstreamError(f"The host {host} could not be resolved.", code="dns_failure") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if any(fetch.blocked_reason(a) is None for a in addresses):
        # A public address: pretend it does not resolve rather than connect to the internet.
        raise UpstreamError(f"The host {host} could not be resolved.", code="dns_failure")
    return addresses


@contextlib.contextmanager
def offline_fetch() -> Iterator[None]:
    """Name resolution without the network; the SSRF block on; S3 input off."""
    saved_resolve = fetch.resolve
    saved_env = {k: os.environ.get(k) for k in ("ALLOW_PRIVATE_URLS", "ALLOWED_S3_BUCKETS")}
    fetch.resolve = _numeric_only_resolve
    os.environ.pop("ALLOW_PRIVATE_URLS", None)
    os.environ["ALLOWED_S3_BUCKETS"] = ""
    try:
        yield
    finally:
        fetch.resolve = saved_resolve
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- seed images ------------------------------------------------------------------------------


def _seed_images() -> list[bytes]:
    """Valid files in the modes and encodings Pillow handles differently."""
    ct = ct_slice(seed=5, size=224)
    small = ct_slice(seed=6, size=64)
    photo = photo_like(seed=4, size=96)
    sixteen_bit = Image.fromarray(np.asarray(ct_slice(seed=8, size=64), dtype=np.uint16) * 257)
    cmyk = io.BytesIO()
    photo.convert("CMYK").save(cmyk, format="JPEG")
    return [
        encode(ct),  # the happy path: a gray CT slice that passes the input gate
        encode(ct, "JPEG", quality=90),
        encode(ct.convert("RGB"), "JPEG", quality=75, progressive=True),
        encode(small.convert("P")),  # palette
        encode(small.convert("LA")),  # gray + alpha
        encode(small.convert("RGBA")),
        encode(small.convert("1")),  # one bit per pixel
        encode(sixteen_bit),  # 16-bit gray (mode I;16)
        encode(photo, "JPEG", quality=60),
        cmyk.getvalue(),
        encode(ct_slice(seed=9, size=16)),  # below the minimum side
    ]


SEED_IMAGES = _seed_images()


@st.composite
def mutated_images(draw) -> bytes:
    """A valid seed file with a few bytes flipped, inserted, deleted, or the tail cut off."""
    data = bytearray(draw(st.sampled_from(SEED_IMAGES)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "truncate":
            del data[at:]
        else:  # write a header-ish number where width/height/lengths live
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            data[at : at + 4] = value.to_bytes(4, "big")
    return bytes(data)


PNG_SEEDS = [seed for seed in SEED_IMAGES if seed.startswith(b"\x89PNG")]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a valid PNG."""
    chunks, at = [], 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """A PNG with correct lengths and CRCs, whatever the chunks hold."""
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        out.append(len(body).to_bytes(4, "big") + kind + body + crc)
    return b"".join(out)


@st.composite
def mutated_pngs(draw) -> bytes:
    """A valid PNG with one chunk changed and its CRC fixed, so the change reaches the decoder.

    Byte flips in a PNG mostly die at the CRC check; this gets past it to IHDR combinations
    (size, bit depth, colour type, interlace), zlib streams and scanline filters.
    """
    chunks = png_chunks(draw(st.sampled_from(PNG_SEEDS)))
    index = draw(st.integers(0, len(chunks) - 1))
    kind, body = chunks[index]
    body = bytearray(body)
    action = draw(st.sampled_from(["flip", "ihdr", "truncate", "extend", "drop", "duplicate"]))
    if action == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body[at] ^= 1 << draw(st.integers(0, 7))
    elif action == "ihdr":
        index, kind = 0, b"IHDR"
        body = bytearray(chunks[0][1])
        field_at = draw(st.sampled_from([0, 4, 8, 9, 10, 11, 12]))  # w, h, depth, type, ...
        if field_at < 8:
            value = draw(st.sampled_from([0, 1, 31, 32, 65535, 100_000, 2**31 - 1]))
            body[field_at : field_at + 4] = value.to_bytes(4, "big")
        else:
            body[field_at] = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16, 255]))
    elif action == "truncate":
        del body[draw(st.integers(0, len(body))) :]
    elif action == "extend":
        body += draw(st.binary(min_size=1, max_size=64))
    elif action == "drop":
        del chunks[index]
        return png_from_chunks(chunks)
    else:
        chunks.insert(index, (kind, bytes(body)))
    chunks[index] = (kind, bytes(body))
    return png_from_chunks(chunks)


image_bytes = st.one_of(
    st.binary(max_size=4096),
    mutated_pngs(),
    st.binary(max_size=512).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff" + b),
    mutated_images(),
    st.sampled_from(SEED_IMAGES),
)

# -- events -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)

hosts = st.sampled_from(
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "169.254.169.254",
        "[fd00:ec2::254]",
        "10.0.0.1",
        "192.168.1.1",
        "0.0.0.0",
        "[::]",
        "100.64.0.1",
        "224.0.0.1",
        "8.8.8.8",  # public: the offline resolver calls it unresolvable, nothing connects
        "example.invalid",
        "localhost",
        "user:pass@127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:99999",
        "[::1%25eth0]",
        "",
    ]
) | st.text(max_size=20)
urls = st.one_of(
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(
            ["http://", "https://", "HTTP://", "s3://", "file://", "ftp://", "gopher://", ""]
        ),
        hosts,
        st.sampled_from(["/", "/slice.png", "/a?token=secret", "/%00", "/../etc/passwd", ""])
        | st.text(max_size=20),
    ),
    st.sampled_from(["file:///etc/passwd", "s3://ct-slices/x.png", "data:image/png;base64,AAAA"]),
    st.text(max_size=60),
)
image_fields = st.one_of(
    image_bytes.map(lambda b: base64.b64encode(b).decode("ascii")),
    st.sampled_from(SEED_IMAGES).map(
        lambda b: "data:image/png;base64," + base64.b64encode(b).decode()
    ),
    st.text(max_size=80),
    json_values,
)
direct_events = st.one_of(
    st.fixed_dictionaries({"url": urls}),
    st.fixed_dictionaries({"image": image_fields}),
    st.fixed_dictionaries({}, optional={"url": urls | json_values, "image": image_fields}),
    st.dictionaries(
        st.sampled_from(["url", "image", "httpMethod", "version", "rawPath", "body"]),
        json_values,
        max_size=3,
    ),
    json_values,
)
request_bodies = st.one_of(
    st.none(),
    direct_events.map(lambda e: json.dumps(e, allow_nan=True)),
    st.fixed_dictionaries({"url": urls}).map(json.dumps),
    st.text(max_size=200),
    image_bytes.map(lambda b: base64.b64encode(b).decode("ascii")),
    json_values,
)
# The real routes are drawn often, so most events get past routing to the interesting parts.
methods = st.one_of(
    st.just("POST"),
    st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "post", ""]),
    st.text(max_size=8),
)
paths = st.one_of(
    st.just("/predict"),
    st.sampled_from(["/health", "/", "/predict/", "/prod/predict", "//predict", ""]),
    st.text(max_size=20),
)
content_types = st.one_of(
    st.just("application/json"),
    st.sampled_from(
        [
            "application/json; charset=utf-8",
            "image/png",
            "image/jpeg",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    st.text(max_size=30),
)
headers = st.one_of(
    st.builds(lambda ct: {"Content-Type": ct}, content_types),
    st.dictionaries(st.text(max_size=15), st.text(max_size=30) | st.none(), max_size=3),
    json_values,
)
api_v1_events = st.fixed_dictionaries(
    {
        "httpMethod": methods | json_values,
        "path": paths | json_values,
        "headers": headers,
        "body": request_bodies,
        "isBase64Encoded": st.booleans() | json_values,
    },
    optional={"requestContext": st.just({"stage": "prod"}) | json_values},
)
api_v2_events = st.fixed_dictionaries(
    {
        "version": st.just("2.0"),
        "rawPath": paths | json_values,
        "requestContext": st.one_of(
            st.builds(
                lambda m, stage: {"http": {"method": m}, "stage": stage},
                methods,
                st.sampled_from(["$default", "prod"]),
            ),
            json_values,
        ),
        "headers": headers,
        "body": request_bodies,
        "isBase64Encoded": st.booleans() | json_values,
    }
)
events = st.one_of(direct_events, api_v1_events, api_v2_events)
uploads = st.builds(
    lambda data, ct, version: (
        {
            "version": "2.0",
            "rawPath": "/predict",
            "requestContext": {"http": {"method": "POST"}, "stage": "$default"},
            "headers": {"content-type": ct},
            "body": base64.b64encode(data).decode("ascii"),
            "isBase64Encoded": True,
        }
        if version == 2
        else {
            "httpMethod": "POST",
            "path": "/predict",
            "headers": {"Content-Type": ct},
            "body": base64.b64encode(data).decode("ascii"),
            "isBase64Encoded": True,
        }
    ),
    image_bytes,
    st.sampled_from(["image/png", "image/jpeg"]),
    st.sampled_from([1, 2]),
)


# -- the properties ---------------------------------------------------------------------------


def _body_of(response: dict) -> dict:
    """The JSON body, whatever the event shape (proxy responses carry it as a string)."""
    if "headers" in response and isinstance(response.get("body"), str):
        assert response["headers"].get("Content-Type") == "application/json", response
        body = json.loads(response["body"])
        assert isinstance(body, dict)
        return body
    return {k: v for k, v in response.items() if k != "statusCode"}


def assert_documented_answer(response: object) -> None:
    """A success body, a health body, or a documented error object with its status."""
    assert isinstance(response, dict), f"the handler returned {type(response).__name__}"
    status = response.get("statusCode")
    body = _body_of(response)
    outcome = body["error"].get("code") if isinstance(body.get("error"), dict) else None
    outcomes[f"{status} {outcome or body.get('prediction') or body.get('status')}"] += 1
    if status == 200:
        if "prediction" in body:
            assert body["prediction"] in ("fracture", "normal"), body
            assert 0.0 <= body["fracture_probability"] <= 1.0, body
            assert 0.0 < body["threshold"] < 1.0, body
            assert set(body["model"]) >= {"name", "version"}, body
        else:
            assert body.get("status") == "ok" and "model" in body, body
        return
    assert status in DOCUMENTED_ERROR_STATUSES, f"undocumented status {status}: {body}"
    assert set(body) == {"error"}, body
    assert ERROR_CODE.match(body["error"]["code"]), body
    message = body["error"]["message"]
    assert isinstance(message, str) and message and "Traceback" not in message, body


def within_time_limit(check: Callable[[], None]) -> None:
    started = time.monotonic()
    check()
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT_S, f"took {elapsed:.1f} s"


def check_event(handler: Callable, event: object) -> None:
    """Property: any event gets a documented answer, in time, without raising."""
    examples_run["events"] += 1
    within_time_limit(lambda: assert_documented_answer(handler(event, CONTEXT)))


def check_upload(handler: Callable, event: dict) -> None:
    """Property: any uploaded bytes get a documented answer."""
    examples_run["uploads"] += 1
    within_time_limit(lambda: assert_documented_answer(handler(event, CONTEXT)))


def check_base64_image(handler: Callable, data: bytes) -> None:
    """Property: any bytes sent as a base64 image get a documented answer."""
    examples_run["base64_images"] += 1
    event = {"image": base64.b64encode(data).decode("ascii")}
    within_time_limit(lambda: assert_documented_answer(handler(event, CONTEXT)))


def check_decoder(data: bytes) -> None:
    """Property: the decoder returns a loaded image or raises a 4xx RequestError, nothing else."""
    examples_run["decoder"] += 1

    def decode() -> None:
        try:
            image = decode_image(data)
        except RequestError as error:
            outcomes[f"{error.status} {error.code}"] += 1
            assert error.status in DECODER_ERROR_STATUSES, (error.status, error.code)
            assert ERROR_CODE.match(error.code)
            return
        outcomes[f"decoded {image.mode}"] += 1
        assert image.size[0] >= 1 and image.size[1] >= 1
        image.convert("RGB").getpixel((0, 0))  # decoded for real, not lazily

    within_time_limit(decode)
