"""What every route shares: the site (config, store, caches), the current user, role checks,
CSRF-checked forms and page rendering. Routes get them through ``Depends``."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from forecaster.core.config import Config
from forecaster.core.errors import StoreLockedError
from forecaster.store.database import Store
from forecaster.store.users import Users, may
from forecaster.web.security import LoginLimiter, csrf_ok, csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")   # autoescaping on for .html (Starlette's default)
PENDING_S = 3600
RECENT_S = 3600.0


class LoginRequired(Exception):
    """Anonymous: pages send the browser to the login page, the API answers 401."""


@dataclass
class Site:
    """The app's state: one config and store, shared by every request."""

    config: Config
    store_path: Path
    lock_timeout_s: float
    limiter: LoginLimiter
    write_lock: threading.Lock = field(default_factory=threading.Lock)   # this process's writers queue here
    cache: dict = field(default_factory=dict)
    pending: dict = field(default_factory=dict)
    recent: dict = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self) -> Store:
        return Store(self.store_path, read_only=True, lock_timeout_s=self.lock_timeout_s)

    def cached(self, key: tuple, compute):
        """``compute()`` once per key and state of the store (new actuals, campaigns or runs change it)."""
        with self.store() as store:
            stamp = store.stamp()
        full = (*key, stamp)
        with self._cache_lock:
            if full in self.cache:
                return self.cache[full]
        value = compute()
        with self._cache_lock:
            for k in [k for k in self.cache if k[:-1] == key]:
                del self.cache[k]
            self.cache[full] = value
        return value

    def who(self, token: str | None, name: str | None) -> dict | None:
        """The user behind an API token or a session's name. While a long job keeps the store locked,
        the answer of the last lookup (at most ``RECENT_S`` old) stands, so submissions can still be
        queued; whenever the store can be read, a removed user is refused at once."""
        key = ("token", hashlib.sha256(token.encode()).hexdigest()) if token else ("name", name)
        try:
            with self.store() as store:
                users = Users(store)
                user = users.by_token(token) if token else users.get(name)
        except StoreLockedError:
            with self._cache_lock:
                seen = self.recent.get(key)
            if seen is None or time.monotonic() - seen[1] > RECENT_S:
                raise
            return seen[0]
        with self._cache_lock:
            if user is None:
                self.recent.pop(key, None)
            else:
                self.recent[key] = (user, time.monotonic())
        return user

    def hold(self, user: str, item: dict) -> str:
        """Keep a checked upload until its sender confirms it; returns the key the form sends back."""
        now = time.monotonic()
        with self._cache_lock:
            for k in [k for k, v in self.pending.items() if now - v["at"] > PENDING_S]:
                del self.pending[k]
            key = secrets.token_urlsafe(24)
            self.pending[key] = {**item, "user": user, "at": now}
        return key

    def take(self, user: str, key: str) -> dict | None:
        with self._cache_lock:
            item = self.pending.get(key)
            if item is None or item["user"] != user or time.monotonic() - item["at"] > PENDING_S:
                return None
            return self.pending.pop(key)


def site(request: Request) -> Site:
    return request.app.state.site


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user(request: Request, s: Annotated[Site, Depends(site)]) -> dict:
    """The caller: by API token (the API), or by session (pages; the API's GET routes too, so its
    docs open in the browser). A removed user's session stops working at once."""
    api = request.url.path.startswith("/api")
    token = _bearer(request) if api else None
    name = request.session.get("user") if not token and (not api or request.method in ("GET", "HEAD")) else None
    user = s.who(token, name) if token or name else None
    if user is None:
        if token:
            raise HTTPException(401, "this API token is not valid (revoked, or its user was removed)",
                                headers={"WWW-Authenticate": "Bearer"})
        raise LoginRequired()
    request.state.user = user
    return user


def need(role: str):
    """A dependency: the current user, who must have at least ``role``'s rights (else 403)."""

    def check(user: Annotated[dict, Depends(current_user)]) -> dict:
        if not may(user["role"], role):
            raise HTTPException(403, f"this needs the {role} role; {user['name']} is {user['role']}")
        return user
    return check


Marketing = Annotated[dict, Depends(need("marketing"))]
Planner = Annotated[dict, Depends(need("planner"))]
Admin = Annotated[dict, Depends(need("admin"))]
SiteDep = Annotated[Site, Depends(site)]


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked (403 without the right one)."""
    form = await request.form(max_files=1, max_fields=50)
    if not csrf_ok(request.session, form.get("csrf_token")):
        raise HTTPException(403, "the form's security token is missing or out of date; reload the page and try again")
    return form


Form = Annotated[FormData, Depends(checked_form)]


def page(request: Request, name: str, status_code: int = 200, headers: dict | None = None, **context):
    """Render a template with what every page needs: the user, the CSRF token, the flash message."""
    flash = request.session.pop("flash", None)
    return templates.TemplateResponse(request, name, {
        "user": getattr(request.state, "user", None), "csrf": csrf_token(request.session), "flash": flash,
        "site_name": request.app.state.site.config.site, **context}, status_code=status_code, headers=headers)


def flash(request: Request, text: str) -> None:
    request.session["flash"] = text
