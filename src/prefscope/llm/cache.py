"""Persistent call cache: SQLite in WAL mode, shared by parallel Snakemake jobs.

A key is the sha256 of the canonical JSON of everything that determines an answer: backend
type, model, endpoint, messages and sampling parameters. The API key is deliberately not
part of it (a rotated key must not invalidate answers, and the key must never reach disk).
Only answers that passed validation are stored, so a malformed answer is asked again.

WAL lets readers proceed while one process writes; ``busy_timeout`` makes a writer wait for
another process's write instead of failing. WAL needs a local filesystem (not NFS): on a
cluster, point ``llm.cache`` at node-local or a filesystem with working POSIX locks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_CREATE = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(
    backend_type: str,
    model: str,
    endpoint: str | None,
    messages: list[dict[str, str]],
    sampling: dict[str, Any],
) -> str:
    """sha256 over canonical JSON (sorted keys, no whitespace) of the request."""
    payload = {
        "v": SCHEMA_VERSION,
        "backend": backend_type,
        "model": model,
        "endpoint": endpoint,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "sampling": sampling,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    response: str
    prompt_tokens: int
    completion_tokens: int


class CallCache:
    """Thread-safe get/put over one SQLite file (one connection per cache object)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        self._init_schema(deadline=time.monotonic() + busy_timeout_s)

    def _init_schema(self, deadline: float) -> None:
        """Switch to WAL and create the table, retrying while another process does the same.

        Some lock states during a concurrent switch to WAL return SQLITE_BUSY without
        consulting the busy handler, so the first-time setup retries on its own.
        """
        while True:
            try:
                with self._lock:
                    self._conn.execute("PRAGMA journal_mode=WAL")
                    self._conn.execute("PRAGMA synchronous=NORMAL")
                    self._conn.execute(_CREATE)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT response, prompt_tokens, completion_tokens FROM calls WHERE key = ?",
                (key,),
            ).fetchone()
        return CachedAnswer(*row) if row else None

    def put(
        self,
        key: str,
        *,
        backend: str,
        model: str,
        response: str,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, backend, model, response, int(prompt_tokens), int(completion_tokens),
                 time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
