"""Hostile input never breaks the contract: a success body or a documented error, in time.

A few hundred generated examples per run in CI (env FUZZ_EXAMPLES per property, default
100), the same ones every run; bench/fuzz.py runs the same properties with fresh randomness
and at least 10,000 examples in all.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given

from tests.reliability import fuzz_properties as fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM") != "1"  # FUZZ_RANDOM=1: explore, not replay


@pytest.fixture(scope="module", autouse=True)
def no_network():
    with fuzz.offline_fetch():
        yield


@fuzz.fuzz_settings(EXAMPLES, derandomize=DERANDOMIZE)
@given(event=fuzz.events)
def test_any_event_gets_a_documented_answer(handler, event):
    fuzz.check_event(handler, event)


@fuzz.fuzz_settings(EXAMPLES, derandomize=DERANDOMIZE)
@given(event=fuzz.uploads)
def test_any_uploaded_bytes_get_a_documented_answer(handler, event):
    fuzz.check_upload(handler, event)


@fuzz.fuzz_settings(EXAMPLES, derandomize=DERANDOMIZE)
@given(data=fuzz.image_bytes)
def test_any_bytes_as_a_base64_image_get_a_documented_answer(handler, data):
    fuzz.check_base64_image(handler, data)


@fuzz.fuzz_settings(EXAMPLES, derandomize=DERANDOMIZE)
@given(data=fuzz.image_bytes)
def test_the_decoder_returns_an_image_or_a_documented_4xx(data):
    fuzz.check_decoder(data)


def test_the_seed_images_are_valid_so_that_mutating_them_means_something():
    """The control: unmutated seeds decode, and the first one is classified."""
    for data in fuzz.SEED_IMAGES:
        fuzz.check_decoder(data)
    assert len({len(data) for data in fuzz.SEED_IMAGES}) == len(fuzz.SEED_IMAGES)


def test_the_answer_check_rejects_a_stack_trace_and_an_undocumented_status():
    """The property must be able to fail: a 500 or a leaked traceback is caught."""
    with pytest.raises(AssertionError):
        fuzz.assert_documented_answer({"statusCode": 500, "error": {"code": "x", "message": "m"}})
    with pytest.raises(AssertionError):
        fuzz.assert_documented_answer(
            {"statusCode": 400, "error": {"code": "bad", "message": "Traceback (most recent"}}
        )
    with pytest.raises(AssertionError):
        fuzz.assert_documented_answer({"statusCode": 400, "detail": "no error object"})
