"""Logging in and out, and the admins' list of users (accounts are made with ``forecaster users``)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from forecaster.store.database import Store
from forecaster.store.users import Users
from forecaster.web.deps import Admin, Form, Site, SiteDep, page

log = logging.getLogger("forecaster.web")
pages = APIRouter(tags=["pages"], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, host or '//'), so the login cannot send anyone elsewhere."""
    if not target:
        return "/campaigns"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/campaigns"
    return target


def login(s: Site, name: str, password: str) -> dict | None:
    """The user if the password is right (a changed argon2 setting rehashes it)."""
    with s.store() as store:
        user, rehash = Users(store).verify(name, password)
    if user and rehash:
        with s.write_lock, Store(s.store_path, lock_timeout_s=s.lock_timeout_s) as store, store.transaction():
            Users(store).store_hash(name, rehash)
    return user


@pages.get("/login")
def login_page(request: Request, next: str | None = None):
    return page(request, "login.html", next=_safe_next(next), error=None)


@pages.post("/login")
def login_post(request: Request, s: SiteDep, form: Form):
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    keys = [f"name:{name.lower()}", f"addr:{request.client.host if request.client else '?'}"]
    wait = s.limiter.retry_after(keys)
    if wait:
        log.warning("login refused for %r from %s: too many wrong passwords", name, keys[1])
        return page(request, "login.html", status_code=429, headers={"Retry-After": str(wait)}, next=target,
                    error=f"Too many wrong passwords; try again in {wait} s.")
    user = login(s, name, password) if name and password else None
    if user is None:
        s.limiter.failed(keys)
        log.warning("wrong password for %r from %s", name, keys[1])
        return page(request, "login.html", status_code=401, next=target, error="Wrong name or password.")
    s.limiter.succeeded(keys[0])
    request.session.clear()                          # a fresh session (and CSRF token) for the logged-in user
    request.session["user"] = user["name"]
    log.info("%s logged in (%s)", user["name"], user["role"])
    return RedirectResponse(target, status_code=303)


@pages.post("/logout")
def logout(request: Request, form: Form):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@pages.get("/users")
def users_page(request: Request, user: Admin, s: SiteDep):
    with s.store() as store:
        frame = Users(store).list()
    return page(request, "users.html", users=frame.to_dict("records"))
