"""A loopback HTTP front for an emulator: request log, latency, faults, extensions.

It forwards every request to the emulator behind it and can
- record each request (for the read-only proof in the tests),
- add a fixed latency (real cloud APIs answer in tens of milliseconds),
- inject faults (429/500/503, connection resets) for a bounded number of requests,
- answer or amend requests itself, for API features the emulator lacks.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


#: A hook may answer a request itself (return a Response) or pass (return None).
RequestHook = Callable[[Request], "Response | None"]
#: A hook may amend the emulator's answer.
ResponseHook = Callable[[Request, Response], Response]
#: Builds the answer for an injected HTTP fault (request, status), in the API's own error format.
FaultAnswer = Callable[[Request, int], Response]


def generic_fault(req: Request, status: int) -> Response:
    """A JSON throttling-style answer; emulators replace it with their API's error format."""
    return Response(
        status,
        {"Content-Type": "application/json", "Retry-After": "0"},
        b'{"__type":"ThrottlingException","message":"injected fault"}',
    )


@dataclass
class Faults:
    """Inject faults into a fraction of requests, at most `budget` times in all.

    Kinds: an HTTP status ("429", "500", "503": throttling-style answer with
    Retry-After), "reset" (TCP reset, no answer) and "slow" (hold the request
    `slow_seconds`, then close without answering: a read timeout for any
    client whose timeout is shorter). `only` limits faults to matching
    requests (e.g. one region and service), so a test can exhaust retries
    there while the rest of the scan succeeds.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "503", "reset")
    budget: int = 0
    seed: int = 7
    slow_seconds: float = 2.0
    only: Callable[[Request], bool] | None = None
    injected: list[str] = field(default_factory=list)
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self, req: Request | None = None) -> str | None:
        if self.only is not None and (req is None or not self.only(req)):
            return None
        with self._lock:
            if len(self.injected) >= self.budget or self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected.append(kind)
            return kind


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (a process killed or interrupted mid-request) is not an error of the
        emulator: say nothing, instead of a traceback on the test's stderr."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class Front:
    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        latency: float = 0.0,
        faults: Faults | None = None,
        scheme_upstream: str = "http",
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency = latency
        self.faults = faults
        self.request_hooks: list[RequestHook] = []
        self.response_hooks: list[ResponseHook] = []
        self.fault_answer: FaultAnswer = generic_fault
        self.log: list[Request] = []
        self._log_lock = threading.Lock()
        self._local = threading.local()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
                with front._log_lock:
                    front.log.append(req)
                if front.latency:
                    time.sleep(front.latency)
                fault = front.faults.draw(req) if front.faults else None
                if fault == "slow":
                    time.sleep(front.faults.slow_seconds if front.faults else 0)
                    self.close_connection = True
                    return
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault:
                    self._send(front.fault_answer(req, int(fault)))
                    return
                resp = None
                for hook in front.request_hooks:
                    resp = hook(req)
                    if resp is not None:
                        break
                if resp is None:
                    resp = front._forward(req)
                for rhook in front.response_hooks:
                    resp = rhook(req, resp)
                self._send(resp)

            def _send(self, resp: Response) -> None:
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator-front", daemon=True)

    def _forward(self, req: Request) -> Response:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection(*self.upstream, timeout=60)
                self._local.conn = conn
            try:
                headers = {k: v for k, v in req.headers.items() if k.lower() not in ("connection",)}
                conn.request(req.method, req.path, body=req.body or None, headers=headers)
                r = conn.getresponse()
                body = r.read()
                return Response(r.status, {k: v for k, v in r.getheaders()}, body)
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = None
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Front:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear_log(self) -> None:
        with self._log_lock:
            self.log.clear()
