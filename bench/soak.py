"""Soak: thousands of invocations in one warm process, valid and invalid events mixed.

A Lambda execution environment serves many requests from one process, so a leak of memory,
threads or sockets, or a slowdown that builds up, shows only after thousands of them. This
runs a fixed cycle of events (every event shape, every input kind, successes and each kind of
refusal, URL fetches from a loopback server) through `lambda_handler` and records:

- unexpected outcomes: a raise, a 500, or a status other than the one the event must get;
- RSS after warm-up and the peak after it (VmHWM reset after warm-up), and live threads;
- p50/p99 latency of the first and of the last window of requests (same cycle, same mix).

`python -m bench.soak [--count 10000]` writes the figures to docs/BENCHMARKS.md and exits 1
when a goal is missed: zero unexpected outcomes, peak RSS growth under 10 % after warm-up,
p99 at the end within 1.5x of the beginning. tests/reliability/test_soak.py runs 1,000 in CI
and asserts only the outcomes (memory and latency goals would flake on a shared CI machine).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.synthetic import ct_slice, encode, photo_like  # noqa: E402

RSS_GROWTH_GOAL = 0.10
P99_RATIO_GOAL = 1.5


@dataclass(frozen=True)
class SoakEvent:
    """One event of the cycle and the status it must get."""

    name: str
    event: dict
    status: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _api_v1(method: str, path: str, body: str | None = None, content_type: str = "") -> dict:
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "httpMethod": method,
        "path": path,
        "headers": headers,
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "soak", "stage": "prod"},
    }


def _api_v2_upload(data: bytes, content_type: str) -> dict:
    return {
        "version": "2.0",
        "rawPath": "/predict",
        "requestContext": {"http": {"method": "POST"}, "stage": "$default"},
        "headers": {"content-type": content_type},
        "body": _b64(data),
        "isBase64Encoded": True,
    }


def soak_cycle(image_server_url: Callable[[str], str]) -> list[SoakEvent]:
    """The events one soak cycle sends; `image_server_url(path)` addresses the loopback server."""
    fracture_png = encode(ct_slice(seed=21, fracture=True))
    normal_jpeg = encode(ct_slice(seed=22).convert("RGB"), "JPEG", quality=92)
    photo = encode(photo_like(seed=23), "JPEG", quality=85)
    tiny = encode(ct_slice(seed=24, size=16))
    truncated = encode(ct_slice(seed=25))[:2000]
    json_image = json.dumps({"image": _b64(fracture_png)})
    oversized = "A" * (14 * 1024 * 1024)  # ~10.5 MB once decoded: over the 10 MB cap
    return [
        SoakEvent("direct base64 PNG", {"image": _b64(fracture_png)}, 200),
        SoakEvent("direct base64 JPEG", {"image": _b64(normal_jpeg)}, 200),
        SoakEvent(
            "v1 JSON base64", _api_v1("POST", "/predict", json_image, "application/json"), 200
        ),
        SoakEvent("v2 binary upload", _api_v2_upload(normal_jpeg, "image/jpeg"), 200),
        SoakEvent("v1 health", _api_v1("GET", "/health"), 200),
        SoakEvent("direct URL", {"url": image_server_url("/ct.png")}, 200),
        SoakEvent("URL 404", {"url": image_server_url("/not-found")}, 404),
        SoakEvent("URL short body", {"url": image_server_url("/short-body")}, 502),
        SoakEvent("photo", {"image": _b64(photo)}, 422),
        SoakEvent("too small", {"image": _b64(tiny)}, 422),
        SoakEvent("truncated PNG", {"image": _b64(truncated)}, 400),
        SoakEvent("not an image", {"image": _b64(b"%PDF-1.7 not an image" * 20)}, 415),
        SoakEvent("bad base64", {"image": "not base64 at all!"}, 400),
        SoakEvent("oversized", {"image": oversized}, 413),
        SoakEvent("no image", {}, 400),
        SoakEvent("S3 disabled", {"url": "s3://some-bucket/slice.png"}, 403),
        SoakEvent("unknown route", _api_v1("GET", "/admin"), 404),
        SoakEvent("wrong method", _api_v1("DELETE", "/predict"), 405),
        SoakEvent("wrong media type", _api_v1("POST", "/predict", "hello", "text/plain"), 415),
        # Never a private-address URL here: ALLOW_PRIVATE_URLS=1 is on for the loopback server.
        SoakEvent("file URL", {"url": "file:///etc/passwd"}, 400),
    ]


def memory_kb() -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of this process, in kB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak_rss() -> bool:
    """Make VmHWM start again from the current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def status_of(response: object) -> int | None:
    return response.get("statusCode") if isinstance(response, dict) else None


@dataclass
class SoakReport:
    count: int
    warmup: int
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # the first few, described
    unexpected_count: int = 0
    rss_warm_kb: int = 0
    rss_end_kb: int = 0
    peak_after_warmup_kb: int = 0
    peak_reset: bool = False
    threads_warm: int = 0
    threads_end: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # after warm-up, in order
    cpu_ms: list[float] = field(default_factory=list)  # this thread's CPU time per invocation
    window: int = 0
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load at the start and the end

    @property
    def rss_growth(self) -> float:
        return self.peak_after_warmup_kb / self.rss_warm_kb - 1 if self.rss_warm_kb else 0.0

    def window_ms(self, which: str, q: float, cpu: bool = False) -> float:
        series = self.cpu_ms if cpu else self.latencies_ms
        values = series[: self.window] if which == "start" else series[-self.window :]
        return percentile(values, q)

    @property
    def p99_ratio(self) -> float:
        return self.window_ms("end", 99) / self.window_ms("start", 99)


def run_soak(
    handler: Callable[[dict, object], dict],
    cycle: list[SoakEvent],
    count: int,
    *,
    warmup: int | None = None,
    context: object = None,
) -> SoakReport:
    """Send `count` events (the cycle, repeated) after `warmup` more; measure the `count`."""
    warmup = len(cycle) * 5 if warmup is None else warmup
    report = SoakReport(count=count, warmup=warmup)
    report.window = max(len(cycle), (count // 10) // len(cycle) * len(cycle))

    def invoke(index: int) -> tuple[float, float]:
        """(wall ms, CPU ms of this thread): CPU time is blind to other processes' load."""
        item = cycle[index % len(cycle)]
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            response = handler(item.event, context)
        except Exception as exc:  # exactly what must never happen
            elapsed = (time.perf_counter() - started) * 1000
            report.unexpected_count += 1
            if len(report.unexpected) < 10:
                report.unexpected.append(f"{item.name}: raised {exc!r}")
            return elapsed, (time.thread_time() - cpu_started) * 1000
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.thread_time() - cpu_started) * 1000
        status = status_of(response)
        report.statuses[status] += 1
        if status != item.status:
            report.unexpected_count += 1
            if len(report.unexpected) < 10:
                body = response.get("body") or response.get("error") or response
                report.unexpected.append(f"{item.name}: {status}, expected {item.status}: {body}")
        return elapsed, cpu

    for index in range(warmup):
        invoke(index)
    report.statuses.clear()
    report.unexpected_count, report.unexpected = 0, []
    report.rss_warm_kb = memory_kb()["VmRSS"]
    report.peak_reset = reset_peak_rss()
    report.threads_warm = threading.active_count()
    load_start = os.getloadavg()[0]
    started = time.monotonic()
    for index in range(count):
        wall, cpu = invoke(index)
        report.latencies_ms.append(wall)
        report.cpu_ms.append(cpu)
    report.seconds = time.monotonic() - started
    report.load_average = (load_start, os.getloadavg()[0])
    memory = memory_kb()
    report.rss_end_kb = memory["VmRSS"]
    report.peak_after_warmup_kb = memory["VmHWM"] if report.peak_reset else memory["VmRSS"]
    report.threads_end = threading.active_count()
    return report


def goals_missed(report: SoakReport) -> list[str]:
    missed = []
    if report.unexpected_count:
        missed.append(f"{report.unexpected_count} unexpected outcomes")
    if report.rss_growth >= RSS_GROWTH_GOAL:
        missed.append(f"peak RSS grew {report.rss_growth:.1%} after warm-up")
    if report.p99_ratio > P99_RATIO_GOAL:
        missed.append(f"p99 at the end is {report.p99_ratio:.2f}x the beginning")
    return missed


def markdown(report: SoakReport, cycle: list[SoakEvent]) -> str:
    from bench.report import markdown_table

    mb = 1024
    rows = [
        ["invocations (after warm-up)", f"{report.count:,} (+{report.warmup} warm-up)"],
        ["event cycle", f"{len(cycle)} events: " + ", ".join(e.name for e in cycle)],
        ["statuses", ", ".join(f"{s}: {n:,}" for s, n in sorted(report.statuses.items(), key=str))],
        ["unexpected outcomes (raise, 500, wrong status)", report.unexpected_count],
        ["RSS after warm-up", f"{report.rss_warm_kb / mb:.1f} MB"],
        [
            "peak RSS after warm-up",
            f"{report.peak_after_warmup_kb / mb:.1f} MB "
            f"({report.rss_growth:+.1%}; goal < +{RSS_GROWTH_GOAL:.0%})",
        ],
        ["RSS at the end", f"{report.rss_end_kb / mb:.1f} MB"],
        [
            "live threads after warm-up / at the end",
            f"{report.threads_warm} / {report.threads_end}",
        ],
        [
            f"p50 first / last {report.window:,}",
            f"{report.window_ms('start', 50):.1f} / {report.window_ms('end', 50):.1f} ms",
        ],
        [
            f"p99 first / last {report.window:,}",
            f"{report.window_ms('start', 99):.1f} / "
            f"{report.window_ms('end', 99):.1f} ms ({report.p99_ratio:.2f}x; goal <= "
            f"{P99_RATIO_GOAL}x)",
        ],
        [
            f"p99 CPU time first / last {report.window:,}",
            f"{report.window_ms('start', 99, cpu=True):.1f} / "
            f"{report.window_ms('end', 99, cpu=True):.1f} ms (the handler thread's own CPU "
            "time: blind to other processes competing for the cores)",
        ],
        [
            "machine load (1-min load average, 2 cores) at start / end",
            f"{report.load_average[0]:.1f} / {report.load_average[1]:.1f}",
        ],
        [
            "wall time",
            f"{report.seconds:.0f} s ({report.count / report.seconds:.0f} invocations/s)",
        ],
    ]
    missed = goals_missed(report)
    verdict = "All goals met." if not missed else "Goals missed: " + "; ".join(missed) + "."
    notes = "\n".join(f"- {line}" for line in report.unexpected)
    return (
        "`python -m bench.soak`: one warm process, the handler called directly (as Lambda "
        "does), a loopback image server in a second process for the URL events, JSON logs "
        f"written to /dev/null. Model: {report.served_model()}.\n\n"
        + markdown_table(["measure", "value"], rows)
        + f"\n\n{verdict}\n"
        + (f"\nFirst unexpected outcomes:\n{notes}\n" if notes else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS")
    args = parser.parse_args(argv)

    os.environ["ALLOW_PRIVATE_URLS"] = "1"  # the image server is on loopback
    os.environ.setdefault("FETCH_TIMEOUT_SECONDS", "5")
    os.environ["ALLOWED_S3_BUCKETS"] = ""
    # The upstream runs in a process of its own, as a remote server would.
    upstream = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.misbehaving_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    report_out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        port = int(upstream.stdout.readline())
        os.dup2(devnull, 1)  # the handler's JSON logs: written, but not to the terminal
        import lambda_function
        from inference.events import LocalContext

        cycle = soak_cycle(lambda path: f"http://127.0.0.1:{port}{path}")
        report = run_soak(
            lambda_function.lambda_handler,
            cycle,
            args.count,
            warmup=args.warmup,
            context=LocalContext(aws_request_id="soak"),
        )
    finally:
        sys.stdout.flush()
        os.dup2(report_out.fileno(), 1)
        upstream.stdin.close()
        upstream.wait(timeout=30)
    text = markdown(report, cycle)
    print(text, flush=True)
    if not args.no_write:
        from bench.report import write_section

        write_section("soak", "Soak (reliability)", text)
    return 1 if goals_missed(report) else 0


if __name__ == "__main__":
    sys.exit(main())
