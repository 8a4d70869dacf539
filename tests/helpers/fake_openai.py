"""An in-process HTTP server on 127.0.0.1 that speaks OpenAI chat completions and embeddings.

Tests drive it with the real ``openai`` client. Replies come from a script (consumed in
order) and then from a responder function, so a test can stage "429, then success",
"500 forever", a slow reply that times out, or malformed content, and then count what the
server saw. Usage numbers are deterministic: prompt tokens = words in all messages,
completion tokens = words in the answer.

``/v1/embeddings`` answers with :func:`hashed_bow` vectors (deterministic, unit-norm, of the
requested ``dimensions`` or ``embed_dim``; float or base64 encoded as asked). The same script
of :class:`Reply` objects applies, so a test can stage 429/500/timeouts there too, and a
reply's ``mutate`` edits the JSON body before it is sent (a missing vector, a wrong length).

    with FakeOpenAI(responder=lambda req: "hello") as server:
        server.push(Reply(status=429))
        client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a chat completion with ``content``, or an error ``status``."""

    content: str = "ok"
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    body: str | None = None  # raw body instead of a chat completion (broken servers)
    headers: dict[str, str] = field(default_factory=dict)
    mutate: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # edits a 200 body


Responder = Callable[[dict[str, Any]], "Reply | str"]


def words(text: str) -> int:
    return len(text.split())


def completion_body(request: dict[str, Any], content: str, index: int) -> dict[str, Any]:
    prompt_tokens = sum(words(str(m.get("content", ""))) for m in request.get("messages", []))
    return {
        "id": f"chatcmpl-fake-{index}",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": words(content),
            "total_tokens": prompt_tokens + words(content),
        },
    }


_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]+|\n")


def hashed_bow(text: str, dim: int) -> list[float]:
    """A unit-norm hashed bag of words and punctuation runs (``**``, ``-``, ``?``, newlines),
    so that markup shows up in the vector as well as vocabulary does."""
    vec = [0.0] * dim
    for token in _TOKEN.findall(text.lower()):
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]


def embeddings_body(request: dict[str, Any], dim: int) -> dict[str, Any]:
    inputs = request.get("input", [])
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    dim = int(request.get("dimensions") or dim)
    data = []
    for i, text in enumerate(inputs):
        vec = hashed_bow(str(text), dim)
        if request.get("encoding_format") == "base64":
            packed = b"".join(struct.pack("<f", v) for v in vec)
            value: Any = base64.b64encode(packed).decode()
        else:
            value = vec
        data.append({"object": "embedding", "index": i, "embedding": value})
    tokens = sum(words(str(t)) for t in inputs)
    return {"object": "list", "data": data, "model": request.get("model", "fake"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class FakeOpenAI:
    """Start with ``with FakeOpenAI(...) as server``; ``server.url`` is the ``base_url``."""

    def __init__(self, responder: Responder | None = None, *, embed_dim: int = 64) -> None:
        self.responder = responder or (lambda request: Reply())
        self.embed_dim = embed_dim
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []  # JSON bodies, in arrival order
        self.auth_headers: list[str] = []  # Authorization header values, in arrival order
        self.statuses: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests handled at once (concurrency checks)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ scripting
    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def _next(self, request: dict[str, Any], embeddings: bool = False) -> tuple[Reply, int]:
        with self._lock:
            self.requests.append(request)
            index = len(self.requests)
            scripted = self.script.popleft() if self.script else None
        if scripted is not None:
            reply: Reply | str = scripted
        elif embeddings:
            reply = Reply()
        else:
            try:
                reply = self.responder(request)
            except Exception as err:  # a broken responder shows up as a 500, not a hang
                reply = Reply(status=500, content=f"responder failed: {err!r}")
        return (Reply(content=reply) if isinstance(reply, str) else reply), index

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    # ------------------------------------------------------------------ server
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: str, headers: dict[str, str]) -> None:
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.auth_headers.append(self.headers.get("Authorization", ""))
                path = self.path.rstrip("/")
                embeddings = path.endswith("/embeddings")
                if not embeddings and not path.endswith("/chat/completions"):
                    self._send(404, json.dumps({"error": {"message": "not found"}}), {})
                    return
                reply, index = fake._next(request, embeddings)
                with fake._lock:
                    fake.statuses.append(reply.status)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(request, reply, index, embeddings)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, request: dict, reply: Reply, index: int, embeddings: bool) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    body = reply.body
                elif reply.status == 200:
                    data = (embeddings_body(request, fake.embed_dim) if embeddings
                            else completion_body(request, reply.content, index))
                    body = json.dumps(reply.mutate(data) if reply.mutate else data)
                else:
                    body = json.dumps({"error": {"message": reply.content, "type": "fake",
                                                 "code": reply.status}})
                self._send(reply.status, body, reply.headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# ---------------------------------------------------------------------- test-side helpers
def openai_backend(server: FakeOpenAI, **settings: Any) -> dict[str, Any]:
    """An ``llm.backends`` entry pointing at ``server`` (no key, near-instant retries)."""
    return {"type": "openai", "model": "fake", "base_url": server.url, "api_key_env": None,
            "retry_base_delay": 0.001, **settings}


def task_text(request: dict[str, Any]) -> tuple[str, str]:
    """(system prompt, first user message): the task, also in repair conversations."""
    system = request["messages"][0]["content"]
    return system, next(m["content"] for m in request["messages"] if m["role"] == "user")


def blocks(tag: str, text: str) -> list[str]:
    """The contents of every ``<tag>`` block of a prompt."""
    return re.findall(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.S)


def annotate_by_word(user: str, concept_stem: str, word: str) -> str:
    """A perfect annotator of one concept: a concept containing ``concept_stem`` goes to the
    response that alone contains ``word``; every other concept is a tie."""
    [a], [b] = blocks("response_a", user), blocks("response_b", user)
    answer = {}
    for number, concept in re.findall(r"^(\d+)\. (.*)$", user.split("Concepts:")[1], re.M):
        side = "Tie"
        if concept_stem in concept and (word in a) != (word in b):
            side = "A" if word in a else "B"
        answer[number] = side
    return json.dumps(answer)
