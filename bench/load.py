"""Load: the local API server under 1, 4 and 16 concurrent clients from a second process.

The server (`python -m inference.cli serve`, waitress, the stand-in for API Gateway + Lambda)
runs in its own process on 127.0.0.1; this process is the load generator: keep-alive
clients in threads, each sending POST /predict with a base64 CT slice (every tenth request a
colour photograph, which must be refused with 422). Every level is bounded in time and in
count and stops by itself; the whole run takes at most about a minute.

Recorded per level: requests, throughput, latency percentiles, wrong answers, 5xx, and lost
requests (sent but never answered). Goals: no request lost, no 5xx.
`python -m bench.load [--seconds-per-level 15]` writes docs/BENCHMARKS.md; exit 1 on a miss.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from tests.synthetic import ct_slice, encode, photo_like  # noqa: E402

LEVELS = (1, 4, 16)
MAX_REQUESTS_PER_LEVEL = 10_000
REQUEST_TIMEOUT_S = 30.0
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def request_bodies() -> list[tuple[bytes, int]]:
    """The request cycle: (JSON body, expected status); nine CT slices, then one photo."""
    bodies = []
    for seed in range(9):
        image = encode(ct_slice(seed=100 + seed, fracture=seed % 2 == 0))
        bodies.append((json.dumps({"image": base64.b64encode(image).decode()}).encode(), 200))
    photo = encode(photo_like(seed=7), "JPEG", quality=85)
    bodies.append((json.dumps({"image": base64.b64encode(photo).decode()}).encode(), 422))
    return bodies


@dataclass(frozen=True)
class Expected:
    """One request of the cycle and its answer, as a lone client got it before the load."""

    body: bytes
    status: int
    fracture_probability: float | None


def post_predict(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def probability_in(payload: bytes) -> float | None:
    try:
        return json.loads(payload).get("fracture_probability")
    except (ValueError, AttributeError):
        return None


def reference_answers(port: int, bodies: list[tuple[bytes, int]]) -> list[Expected]:
    """Each request once, alone: what every answer under load must equal, to the last bit.

    The interpreter is shared by the server's threads; an answer that changes under
    concurrency would be a race, and it is counted as an error.
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    expected = []
    try:
        for body, status in bodies:
            got, payload = post_predict(connection, body)
            if got != status:
                raise RuntimeError(f"a lone request got {got}, expected {status}: {payload[:300]}")
            expected.append(Expected(body, status, probability_in(payload)))
    finally:
        connection.close()
    return expected


@dataclass
class LevelResult:
    clients: int
    seconds: float = 0.0
    sent: int = 0
    answered: int = 0
    wrong: int = 0  # another status than expected, or another probability than alone
    server_errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.sent - self.answered

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_level(port: int, clients: int, seconds: float, cycle: list[Expected]) -> LevelResult:
    """`clients` threads, each with one keep-alive connection, until time or count runs out."""
    result = LevelResult(clients)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    budget = iter(range(MAX_REQUESTS_PER_LEVEL))

    def note(problem: str) -> None:
        if len(result.first_problems) < 5:
            result.first_problems.append(problem)

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        index = offset
        while time.monotonic() < stop_at:
            with lock:
                if next(budget, None) is None:
                    break
                result.sent += 1
            expected = cycle[index % len(cycle)]
            index += 1
            started = time.perf_counter()
            try:
                status, payload = post_predict(connection, expected.body)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    note(f"{type(exc).__name__}: {exc}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.answered += 1
                result.latencies_ms.append(elapsed)
                if status >= 500:
                    result.server_errors += 1
                if status != expected.status:
                    result.wrong += 1
                    note(f"status {status}, expected {expected.status}")
                elif status == 200 and probability_in(payload) != expected.fracture_probability:
                    result.wrong += 1
                    note(
                        f"P(fracture) {probability_in(payload)}, alone it was "
                        f"{expected.fracture_probability}"
                    )
        connection.close()

    threads = [threading.Thread(target=client, args=(n * 3,), daemon=True) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT_S + 5)
    result.seconds = time.monotonic() - started
    return result


def start_server(port: int, log: IO[str]) -> subprocess.Popen:
    """The server, its stderr going to `log`.

    Never to a pipe nobody reads: waitress warns on stderr when its task queue grows, and
    once a pipe's 64 kB buffer is full every server thread blocks on that write.
    """
    env = {k: v for k, v in os.environ.items() if k != "ALLOW_PRIVATE_URLS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "inference.cli", "serve", "--host", HOST, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # one JSON log line per step per request
        stderr=log,
        text=True,
    )


def tail_of(log: IO[str], characters: int = 2000) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-characters:]


def wait_until_healthy(
    port: int, server: subprocess.Popen, log: IO[str], timeout_s: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {tail_of(log)}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer /health within {timeout_s:.0f} s")


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def markdown(
    results: list[LevelResult], server_peak_mb: float | None, queue_depths: list[int]
) -> str:
    from bench.report import markdown_table

    rows = [
        [
            r.clients,
            f"{r.answered:,} / {r.sent:,}",
            f"{r.answered / r.seconds:.1f}",
            f"{r.percentile(50):.0f}",
            f"{r.percentile(90):.0f}",
            f"{r.percentile(99):.0f}",
            f"{max(r.latencies_ms, default=float('nan')):.0f}",
            f"{(r.wrong / r.answered if r.answered else 1):.2%}",
            r.server_errors,
            r.lost,
        ]
        for r in results
    ]
    header = [
        "clients",
        "answered / sent",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "error rate",
        "5xx",
        "lost",
    ]
    missed = goals_missed(results)
    verdict = "No request lost, no 5xx." if not missed else "Goals missed: " + "; ".join(missed)
    problems = [f"- {r.clients} clients: {p}" for r in results for p in r.first_problems]
    return (
        "`python -m bench.load`: the local API server (`python -m inference.cli serve`, "
        "waitress, 4 threads) in its own process on 127.0.0.1, loaded from a second process "
        "by keep-alive clients sending `POST /predict` with a base64 CT slice (every tenth "
        "request a colour photograph, expected 422). 'error rate' counts answers whose status "
        "differs from the expected one, or whose `fracture_probability` differs in any bit "
        "from the answer a lone client got for the same image (a race in the shared "
        "interpreter would show here). Each level runs for a fixed time; the 2-core "
        "machine is shared by the server and the load generator (1-minute load average at "
        f"the end of the run: {os.getloadavg()[0]:.1f}). Model: {report.served_model()}.\n\n"
        + markdown_table(header, rows)
        + (f"\n\nServer peak RSS: {server_peak_mb:.0f} MB." if server_peak_mb else "")
        + (
            f" waitress warned {len(queue_depths):,} times that requests were queueing for "
            f"its 4 worker threads (deepest queue: {max(queue_depths)})."
            if queue_depths
            else " waitress never reported a queue."
        )
        + f"\n\n{verdict}\n"
        + ("\nFirst problems seen:\n" + "\n".join(problems) + "\n" if problems else "")
    )


def goals_missed(results: list[LevelResult]) -> list[str]:
    missed = []
    for r in results:
        if r.lost:
            missed.append(f"{r.lost} requests lost at {r.clients} clients")
        if r.server_errors:
            missed.append(f"{r.server_errors} 5xx at {r.clients} clients")
    return missed


def measure(
    port: int,
    server: subprocess.Popen,
    log: IO[str],
    bodies: list[tuple[bytes, int]],
    args: argparse.Namespace,
) -> tuple[list[LevelResult], float | None]:
    """Every level against a running server: (results, the server's peak RSS in MB)."""
    wait_until_healthy(port, server, log)
    cycle = reference_answers(port, bodies)
    run_level(port, 1, 2.0, cycle)  # warm-up: first inference, first connections
    results = []
    for clients in args.levels:
        result = run_level(port, clients, args.seconds_per_level, cycle)
        print(
            f"{clients} clients: {result.answered} answered, {result.lost} lost, "
            f"{result.server_errors} 5xx, p50 {result.percentile(50):.0f} ms",
            flush=True,
        )
        results.append(result)
    return results, peak_rss_mb(server.pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-level", type=float, default=15.0)
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS")
    args = parser.parse_args(argv)
    if args.seconds_per_level * len(args.levels) > 60:
        parser.error("the whole load run is bounded to 60 s")
    bodies = request_bodies()
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = start_server(port, log)
        try:
            results, server_peak = measure(port, server, log, bodies, args)
            queue_depths = [
                int(line.rsplit(" ", 1)[1])
                for line in tail_of(log, 10**8).splitlines()
                if line.startswith("Task queue depth is ")
            ]
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    text = markdown(results, server_peak, queue_depths)
    print(text)
    if not args.no_write:
        from bench.report import write_section

        write_section("load", "Load: local API server (reliability)", text)
    return 1 if goals_missed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
