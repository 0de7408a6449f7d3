"""s3://bucket/key -> image bytes, only from buckets the operator allowed.

The function's IAM role can read whatever the account lets it read, so a caller naming any
bucket would turn the classifier into a reader of private objects. Only buckets listed in
env ALLOWED_S3_BUCKETS are read (empty: S3 input is off). The object's size is checked with
head_object before anything is downloaded, and the download itself is capped too (the object
may change between the two calls).

boto3 is imported on first use, not at init: it costs a few hundred milliseconds of cold
start that requests without S3 URLs should not pay.
"""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import unquote, urlsplit

from inference.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UpstreamError,
    UpstreamTimeout,
)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()

NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
DENIED_CODES = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccountProblem",
}


def allowed_buckets(value: str | None = None) -> frozenset[str]:
    """The bucket allow-list from `value` or env ALLOWED_S3_BUCKETS (comma-separated)."""
    if value is None:
        value = os.environ.get("ALLOWED_S3_BUCKETS", "")
    return frozenset(b.strip() for b in value.split(",") if b.strip())


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URL, or 400."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise BadRequest("The S3 URL is malformed.", code="invalid_url") from exc
    bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
    if parts.scheme.lower() != "s3" or not bucket or not key:
        raise BadRequest("An S3 URL must look like s3://bucket/key.", code="invalid_url")
    return bucket, key


def s3_client():
    """One boto3 S3 client per endpoint, region and key id, created on first use and reused."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    cache_key = (endpoint, region, os.environ.get("AWS_ACCESS_KEY_ID"))
    with _clients_lock:
        if cache_key not in _clients:
            import boto3
            from botocore.config import Config

            # Short per-call limits (S3 answers a same-region Lambda in milliseconds): with
            # one retry a call gives up within ~6 s, and fetch_s3_object checks the whole
            # fetch deadline between calls, so a hanging S3 cannot outlast the function.
            config = Config(
                connect_timeout=1,
                read_timeout=2,
                retries={"max_attempts": 2, "mode": "standard"},
            )
            _clients[cache_key] = boto3.client(
                "s3", endpoint_url=endpoint, region_name=region, config=config
            )
        return _clients[cache_key]


def _translate(exc: Exception, bucket: str, key: str) -> Exception:
    """A botocore exception as the RequestError a caller should see."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    where = f"s3://{bucket}/{key}"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in NOT_FOUND_CODES:
            return NotFound(f"There is no object at {where}.", code="s3_object_not_found")
        if code in DENIED_CODES:
            return Forbidden(f"Access to {where} is denied.", code="s3_access_denied")
        return UpstreamError(f"S3 answered {code or 'an error'} for {where}.", code="s3_error")
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return UpstreamTimeout(f"S3 did not answer in time for {where}.", code="upstream_timeout")
    if isinstance(exc, BotoCoreError):
        return UpstreamError(f"S3 could not be reached for {where}.", code="s3_error")
    return exc


def fetch_s3_object(
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    buckets: frozenset[str] | None = None,
    deadline_s: float = 10.0,
) -> bytes:
    """The bytes of s3://bucket/key, or 400/403/404/413/502/504 as a RequestError.

    `deadline_s` bounds the whole fetch like a URL's: checked after the size check, before
    the download starts.
    """
    started = time.monotonic()
    bucket, key = parse_s3_url(url)
    buckets = allowed_buckets() if buckets is None else buckets
    if not buckets:
        raise Forbidden(
            "S3 input is disabled (no bucket is allowed).", code="s3_bucket_not_allowed"
        )
    if bucket not in buckets:
        raise Forbidden(f"The bucket {bucket!r} is not allowed.", code="s3_bucket_not_allowed")
    client = s3_client()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        size = int(head.get("ContentLength", 0))
        if size > max_bytes:
            raise PayloadTooLarge(
                f"The object is {size:,} bytes; the limit is {max_bytes:,} bytes.",
                code="image_too_large",
            )
        if time.monotonic() - started > deadline_s:
            raise UpstreamTimeout(
                f"S3 did not answer within {deadline_s:g} s for s3://{bucket}/{key}.",
                code="upstream_timeout",
            )
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            data = body.read(max_bytes + 1)
        finally:
            body.close()
    except (PayloadTooLarge, UpstreamTimeout):
        raise
    except Exception as exc:
        translated = _translate(exc, bucket, key)
        if translated is exc:
            raise
        raise translated from exc
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The object is larger than the limit of {max_bytes:,} bytes.",
            code="image_too_large",
        )
    return data
