"""What keeps the web part safe, with the framework's own tools where it has them.

- Sessions: Starlette's signed-cookie ``SessionMiddleware`` (HttpOnly, SameSite=Lax, Secure
  behind HTTPS); the secret comes from ``FORECASTER_SECRET_KEY`` or is made on first start and
  kept beside the store with mode 0600.
- CSRF: one random token per session, sent back by every form and compared in constant time.
- Logins: wrong passwords are counted per name and per address; over the limit within a minute,
  further attempts get 429 until the minute has passed.
- Bodies: larger than the configured limit get 413, whether announced by Content-Length or not.
- Headers: a Content-Security-Policy without inline scripts, nosniff, no framing, same-origin referrers.
"""

from __future__ import annotations

import collections
import hmac
import logging
import os
import secrets
import threading
import time
from pathlib import Path

log = logging.getLogger("forecaster.web")

SECRET_ENV = "FORECASTER_SECRET_KEY"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
# the report is one self-contained page: its stylesheet and its charts' style attributes are inline
REPORT_CSP = CSP.replace("style-src 'self'", "style-src 'unsafe-inline'")


def session_secret(store_path: Path) -> str:
    """The session-signing secret: the environment's, else the one kept in ``<store>.secret``
    (made on first start, readable by its owner only)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = store_path.with_name(store_path.name + ".secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48))
        fh.flush()
        os.fsync(fh.fileno())
    log.info("made the session secret %s (mode 0600)", path)
    return path.read_text(encoding="ascii").strip()


def csrf_token(session: dict) -> str:
    """The session's CSRF token, made when first needed."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, sent: object) -> bool:
    want = session.get("csrf")
    return isinstance(sent, str) and bool(want) and hmac.compare_digest(sent.encode(), str(want).encode())


class LoginLimiter:
    """Wrong passwords per key in a sliding minute: ``attempts`` per name (``name:...``), four
    times as many per address (``addr:...``, which a whole office behind one proxy may share)."""

    ADDRESS_FACTOR = 4

    def __init__(self, attempts: int, window_s: float = 60.0):
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque:
        q = self._failures[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until an attempt is allowed again (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window_s - (now - q[-self._limit(k)]) for k in keys
                     for q in [self._recent(k, now)] if len(q) >= self._limit(k)]
        return int(max(waits)) + 1 if waits else 0

    def _limit(self, key: str) -> int:
        return self.attempts * (self.ADDRESS_FACTOR if key.startswith("addr:") else 1)

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, name_key: str) -> None:
        with self._lock:
            self._failures.pop(name_key, None)


class TooLarge(Exception):
    """The request body passed the limit while it was being read."""


async def _send_413(send, limit: int) -> None:
    body = (f"Request body too large: the limit is {limit // 1_000_000} MB (web.max_upload_mb in the config)."
            ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 413 for a body above ``limit`` bytes, announced or streamed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _send_413(send, self.limit)
        seen, started, refused = 0, False, False

        async def counted():
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                if not started and not refused:
                    refused = True
                    await _send_413(send, self.limit)
                raise TooLarge()
            return message

        async def watched(message):
            nonlocal started
            if refused:                 # the 413 went out; whatever the app makes of the aborted body is dropped
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            pass


class SecurityHeaders:
    """ASGI middleware: the CSP and companions on every response (a route may set its own CSP)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def add(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {b"content-security-policy": CSP.encode(), b"x-content-type-options": b"nosniff",
                         b"x-frame-options": b"DENY", b"referrer-policy": b"same-origin",
                         b"cache-control": b"no-store"}
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)
