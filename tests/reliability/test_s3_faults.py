"""S3 throttling and internal errors become a 502, retried a bounded number of times.

boto3 talks real HTTP to moto's server through S3FaultProxy, which answers with S3's own
error documents (503 SlowDown, 500 InternalError) when told to. A transient fault is retried
and the image arrives; a persistent one ends, after the client's bounded retries, in the
documented upstream error, never in a botocore exception reaching the caller.
"""

from __future__ import annotations

import pytest

from inference.errors import RequestError
from inference.s3 import fetch_s3_object
from tests.fake_aws import fake_aws_client, moto_server
from tests.reliability.s3_fault_proxy import S3FaultProxy
from tests.synthetic import ct_slice, encode

BUCKET = "ct-slices"
KEY = "patient-0/slice-042.png"
IMAGE = encode(ct_slice(seed=3))


@pytest.fixture(scope="module")
def moto_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def s3_proxy(moto_endpoint):
    seeding = fake_aws_client("s3", moto_endpoint)
    seeding.create_bucket(Bucket=BUCKET)
    seeding.put_object(Bucket=BUCKET, Key=KEY, Body=IMAGE)
    proxy = S3FaultProxy(moto_endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def s3(monkeypatch, s3_proxy):
    """The function's S3 settings pointed at the fault proxy, with a clean fault plan."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_proxy.endpoint,
        "ALLOWED_S3_BUCKETS": BUCKET,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    s3_proxy.reset()
    yield s3_proxy
    s3_proxy.reset()


def failure_of(url: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        fetch_s3_object(url)
    return caught.value


def test_the_object_arrives_through_the_proxy_when_nothing_fails(s3):
    assert fetch_s3_object(f"s3://{BUCKET}/{KEY}") == IMAGE
    assert [status for _, _, status in s3.requests] == [200, 200]  # head, then get


@pytest.mark.parametrize("fault", ["SlowDown", "InternalError"])
def test_one_transient_fault_is_retried_and_the_image_arrives(s3, fault):
    s3.fail_next(fault)

    assert fetch_s3_object(f"s3://{BUCKET}/{KEY}") == IMAGE
    assert s3.requests[0][2] in (500, 503)
    assert [status for _, _, status in s3.requests[1:]] == [200, 200]


@pytest.mark.parametrize("fault", ["SlowDown", "InternalError", "ServiceUnavailable"])
def test_persistent_throttling_or_server_errors_are_an_upstream_error(s3, fault):
    s3.always_fail(fault)

    error = failure_of(f"s3://{BUCKET}/{KEY}")

    assert (error.status, error.code) == (502, "s3_error")
    assert BUCKET in error.message and "\n" not in error.message
    assert 1 < len(s3.requests) <= 5, "retries must happen, and stop"


def test_throttling_on_the_download_after_a_good_head_is_an_upstream_error(s3):
    s3.pass_next(1)  # head_object succeeds
    s3.always_fail("SlowDown")  # then every get_object is throttled

    error = failure_of(f"s3://{BUCKET}/{KEY}")

    assert (error.status, error.code) == (502, "s3_error")
    assert [method for method, _, _ in s3.requests[:2]] == ["HEAD", "GET"]


def test_a_slow_s3_cannot_outlast_the_fetch_deadline(s3):
    s3.delay_s = 1.2  # each answer is slow, though within one call's read timeout

    with pytest.raises(RequestError) as caught:
        fetch_s3_object(f"s3://{BUCKET}/{KEY}", deadline_s=1.0)

    assert (caught.value.status, caught.value.code) == (504, "upstream_timeout")
    assert [method for method, _, _ in s3.requests] == ["HEAD"], "no download after the deadline"


def test_a_missing_key_is_404_from_the_real_server(s3):
    error = failure_of(f"s3://{BUCKET}/no/such/slice.png")

    assert (error.status, error.code) == (404, "s3_object_not_found")


def test_a_bucket_outside_the_allow_list_is_refused_without_any_request(s3):
    error = failure_of("s3://someone-elses-bucket/slice.png")

    assert (error.status, error.code) == (403, "s3_bucket_not_allowed")
    assert s3.requests == []


def test_through_the_handler_persistent_throttling_is_a_502_error_object(handler, context, s3):
    s3.always_fail("SlowDown")

    response = handler({"url": f"s3://{BUCKET}/{KEY}"}, context)

    assert response["statusCode"] == 502
    assert response["error"]["code"] == "s3_error"


def test_through_the_handler_a_transient_throttle_is_invisible(handler, context, s3):
    s3.fail_next("SlowDown")

    response = handler({"url": f"s3://{BUCKET}/{KEY}"}, context)

    assert response["statusCode"] == 200, response
    assert response["prediction"] in ("fracture", "normal")
