"""s3:// URLs against moto's S3 server over real HTTP (boto3 is not patched)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.fake_aws import fake_aws_client, moto_server
from tests.synthetic import ct_slice, encode, photo_like

BUCKET = "ct-slices"
OTHER = "other-bucket"


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        s3 = fake_aws_client("s3", url)
        for bucket in (BUCKET, OTHER):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=BUCKET, Key="slices/ct.png", Body=encode(ct_slice(seed=8)))
        s3.put_object(Bucket=BUCKET, Key="slices/photo.jpg", Body=encode(photo_like(3), "JPEG"))
        s3.put_object(Bucket=OTHER, Key="ct.png", Body=encode(ct_slice(seed=9)))
        yield url


@pytest.fixture
def s3_env(moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ALLOWED_S3_BUCKETS", f" {BUCKET} ,unused-bucket")
    return moto_url


def status_and_code(response: dict) -> tuple[int, str | None]:
    return response["statusCode"], response.get("error", {}).get("code")


def test_an_allowed_object_is_classified(handler, context, s3_env):
    response = handler({"url": f"s3://{BUCKET}/slices/ct.png"}, context)
    assert response["statusCode"] == 200
    assert response["prediction"] in ("fracture", "normal")


def test_an_s3_photo_meets_the_gate(handler, context, s3_env):
    response = handler({"url": f"s3://{BUCKET}/slices/photo.jpg"}, context)
    assert status_and_code(response) == (422, "not_a_ct_image")


@pytest.mark.parametrize("url", [f"s3://{BUCKET}/slices/missing.png", "s3://unused-bucket/ct.png"])
def test_missing_keys_and_buckets_are_404(handler, context, s3_env, url):
    assert status_and_code(handler({"url": url}, context)) == (404, "s3_object_not_found")


def test_a_bucket_off_the_list_is_403_even_if_readable(handler, context, s3_env):
    response = handler({"url": f"s3://{OTHER}/ct.png"}, context)
    assert status_and_code(response) == (403, "s3_bucket_not_allowed")


def test_s3_input_is_off_without_an_allow_list(handler, context, s3_env, monkeypatch):
    monkeypatch.setenv("ALLOWED_S3_BUCKETS", "")
    response = handler({"url": f"s3://{BUCKET}/slices/ct.png"}, context)
    assert status_and_code(response) == (403, "s3_bucket_not_allowed")


def test_an_object_over_the_cap_is_413_from_its_head(handler, context, s3_env, monkeypatch):
    monkeypatch.setenv("MAX_IMAGE_BYTES", "1000")
    response = handler({"url": f"s3://{BUCKET}/slices/ct.png"}, context)
    assert status_and_code(response) == (413, "image_too_large")


@pytest.mark.parametrize("url", ["s3://", f"s3://{BUCKET}", f"s3://{BUCKET}/"])
def test_malformed_s3_urls_are_400(handler, context, s3_env, url):
    assert handler({"url": url}, context)["statusCode"] == 400


def test_access_denied_is_403(handler, context, s3_env, monkeypatch):
    """An IAM user allowed only another bucket: moto's server answers AccessDenied."""
    iam = fake_aws_client("iam", s3_env)
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{OTHER}/*"}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="other", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    set_auth(s3_env, "0")  # from now on moto's server checks IAM
    try:
        response = handler({"url": f"s3://{BUCKET}/slices/ct.png"}, context)
    finally:
        set_auth(s3_env, "inf")
    assert status_and_code(response) == (403, "s3_access_denied")


def set_auth(url: str, count: str) -> None:
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form type would hide the body from moto
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
