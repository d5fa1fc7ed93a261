"""A real OpenAI-compatible HTTP server on 127.0.0.1 for engine tests and benchmarks.

`POST /v1/chat/completions` answers after `latency_s`; a per-prompt script (keyed by the text of the
last message) can make the n-th hit of a prompt fail instead. Script actions:
  "ok"            answer normally                "400" / "500"   that HTTP error
  "429:<secs>"    429 with `Retry-After: <secs>`  "sleep:<secs>"  wait that long, then answer
  "malformed"     200 with a body that is not JSON  "drop"        close the socket without answering
The last action repeats for later hits. A scripted 400 / 500 echoes the request's Authorization header
in its error message, as some providers do with a bad key, so tests can check that it never reaches a
stored row. `GET /_stats` returns hits per prompt, hit times and max in-flight as JSON.

In-process: `with FakeOpenAIServer(latency_s=0.1) as server: server.base_url ...`.
As a process (benchmarks, so its CPU is not charged to the caller):
`python fake_openai_server.py --latency 0.1` prints the port on its first stdout line.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _State:
    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.lock = threading.Lock()
        self.scripts: dict[str, list[str]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.hit_times: dict[str, list[float]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self.models: list[str] = []  # the `model` of each request body, in arrival order

    def begin(self, prompt: str) -> str:
        """Count a hit and return the scripted action for it."""
        with self.lock:
            n = self.hits[prompt]
            self.hits[prompt] = n + 1
            self.hit_times[prompt].append(time.time())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            script = self.scripts.get(prompt) or ["ok"]
            return script[min(n, len(script) - 1)]

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def stats(self) -> dict:
        with self.lock:
            return {
                "hits": dict(self.hits),
                "hit_times": {k: list(v) for k, v in self.hit_times.items()},
                "total": sum(self.hits.values()),
                "max_in_flight": self.max_in_flight,
                "in_flight": self.in_flight,
                "models": list(self.models),
            }


def _completion(prompt: str, model: str) -> dict:
    # deterministic token counts so tests can compute costs
    prompt_tokens = max(1, len(prompt.split()))
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": f"echo: {prompt}"},
            }
        ],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 5, "total_tokens": prompt_tokens + 5},
    }


def _error(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": "fake_error", "code": str(status)}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real provider
    disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        if self.path == "/_stats":
            self._send_json(200, self.state.stats())
        else:
            self._send_json(404, _error(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        if self.path.endswith("/chat/completions"):
            self._chat(self._body())
        else:
            self._send_json(404, _error(404, f"no route {self.path}"))

    def _chat(self, body: dict) -> None:
        messages = body.get("messages") or [{}]
        prompt = str(messages[-1].get("content", ""))
        with self.state.lock:
            self.state.models.append(str(body.get("model")))
        action = self.state.begin(prompt)
        try:
            kind, _, arg = action.partition(":")
            if kind == "drop":
                self.close_connection = True
                return  # the socket closes with no response
            time.sleep(float(arg) if kind == "sleep" else self.state.latency_s)
            if kind == "429":
                self._send_json(429, _error(429, "rate limited (fake)"), {"Retry-After": arg or "1"})
            elif kind in ("400", "500"):
                echoed = self.headers.get("Authorization")
                self._send_json(int(kind), _error(int(kind), f"scripted {kind} (fake), credentials sent: {echoed}"))
            elif kind == "malformed":
                self._send(200, b'{"choices": [oops not json')
            else:
                self._send_json(200, _completion(prompt, str(body.get("model", "fake"))))
        finally:
            self.state.end()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 drops bursts of connects

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and hung up is part of the script, not a server bug


class FakeOpenAIServer:
    """The server in a background thread; use as a context manager."""

    def __init__(self, latency_s: float = 0.0, port: int = 0) -> None:
        self.state = _State(latency_s)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, prompt: str, actions: list[str]) -> None:
        with self.state.lock:
            self.state.scripts[prompt] = list(actions)

    def stats(self) -> dict:
        return self.state.stats()

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = FakeOpenAIServer(latency_s=args.latency, port=args.port)
    print(server.port, flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
