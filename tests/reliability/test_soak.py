"""A warm handler answers a thousand mixed requests correctly, without leaking threads.

The short soak of CI: bench/soak.py's event cycle (every event shape and input kind, successes
and every kind of refusal, URL fetches from a loopback server), 1,000 invocations in this one
process. Memory growth and latency drift are measured by the 10,000-invocation benchmark
(`python -m bench.soak`), not asserted here: on a shared CI machine they would flake.
"""

from __future__ import annotations

import pytest

from bench.soak import run_soak, soak_cycle
from inference.events import LocalContext

COUNT = 1_000


@pytest.fixture(scope="module")
def soak_settings():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLOW_PRIVATE_URLS", "1")  # the image server is on loopback
        patch.setenv("FETCH_TIMEOUT_SECONDS", "5")
        patch.setenv("ALLOWED_S3_BUCKETS", "")
        yield


@pytest.fixture(scope="module")
def soak_report(handler, upstream, soak_settings):
    """One soak run, shared by the tests that read it."""
    cycle = soak_cycle(upstream.url)
    return cycle, run_soak(handler, cycle, COUNT, context=LocalContext(aws_request_id="soak"))


def test_a_thousand_mixed_invocations_get_exactly_the_expected_answers(soak_report):
    cycle, report = soak_report

    assert report.unexpected_count == 0, "\n".join(report.unexpected)
    assert sum(report.statuses.values()) == COUNT
    assert set(report.statuses) == {event.status for event in cycle}


def test_no_request_leaves_a_thread_behind(soak_report):
    """Each URL fetch starts a resolver thread and a deadline timer; all of them must end."""
    cycle, report = soak_report
    url_fetches = COUNT // len(cycle) * sum(1 for e in cycle if "url" in e.event)

    assert url_fetches >= 100
    assert report.threads_end <= report.threads_warm + 5


def test_the_soak_notices_a_wrong_answer(handler, context, upstream, soak_settings):
    """The control: an event whose expected status is wrong is counted as unexpected."""
    cycle = soak_cycle(upstream.url)
    wrong = [type(cycle[0])(cycle[0].name, cycle[0].event, 418)]

    report = run_soak(handler, wrong, 3, warmup=0, context=context)

    assert report.unexpected_count == 3
