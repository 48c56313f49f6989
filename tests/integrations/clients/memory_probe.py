"""Measure the client's memory while iterating a large course-stats listing.

    .venv/bin/python -m tests.integrations.clients.memory_probe --attempts 1000000
    .venv/bin/python -m tests.integrations.clients.memory_probe --base-url http://127.0.0.1:8000/sandbox/360

Without ``--base-url`` a fake 360Learning runs in a separate process and generates pages of
500 contract-shaped attempts on the fly (``Link: rel="next"`` until the last page), so only
the client's memory is in this process. Prints one JSON line: records read, pages, peak RSS
(VmHWM), RSS after the first page and at the end, and seconds.

No Django: this process imports the client only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from integrations.providers.learning360.client import Learning360Client

PAGE_SIZE = 500


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _attempt(n: int) -> dict:
    return {
        "_id": f"{n:024x}",
        "versionNumber": 0,
        "lang": "en",
        "firstActivityAt": "2025-06-30T13:00:00.000Z",
        "lastActivityAt": "2025-06-30T13:23:56.059Z",
        "timeSpent": 41390 + n % 1000,
        "progress": n % 101,
        "score": n % 100,
        "completedAt": "2025-06-30T13:23:56.059Z",
        "courseId": f"{n % 5000:024x}",
        "userId": f"{n // 7:024x}",
    }


def _serve(port: int, attempts: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(200, json.dumps({"token_type": "Bearer", "access_token": "probe", "expires_in": 3600}).encode())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            start = int(parse_qs(parts.query).get("after", ["0"])[0])
            end = min(start + PAGE_SIZE, attempts)
            body = json.dumps([_attempt(n) for n in range(start, end)]).encode()
            headers = {"Link": f'</api/v2/courses/stats?after={end}>; rel="next"'} if end < attempts else {}
            self._send(200, body, headers)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(base_url: str, *, client_id: str = "probe", client_secret: str = "probe-secret") -> dict:
    # The probe's server runs on this machine's loopback address.
    client = Learning360Client(base_url, client_id, client_secret, timeout=(5, 120), allow_loopback=True)
    started = time.monotonic()
    count = 0
    after_first_page = None
    for _stat in client.course_stats():
        count += 1
        if count == PAGE_SIZE:
            after_first_page = _rss_kib("VmRSS")
    return {
        "records": count,
        "pages": -(-count // PAGE_SIZE),
        "rss_after_first_page_kib": after_first_page,
        "rss_end_kib": _rss_kib("VmRSS"),
        "peak_rss_kib": _rss_kib("VmHWM"),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--base-url")
    parser.add_argument("--client-id", default="sandbox-client")
    parser.add_argument("--client-secret", default="sandbox-secret")
    args = parser.parse_args()
    if args.base_url:
        print(json.dumps(measure(args.base_url, client_id=args.client_id, client_secret=args.client_secret)))
        return
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, args.attempts), daemon=True)
    server.start()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        print(json.dumps(measure(f"http://127.0.0.1:{port}")))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
