"""Accounts for the web page and API: users with a role, argon2 password hashes, API tokens.

Roles are ranked: ``marketing`` submits, changes and withdraws campaigns and reads impact and
advice; ``planner`` also sees runs, the report and scenarios; ``admin`` also manages users.
Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change). An API
token is 32 random bytes shown once; only its SHA-256 is stored (a token has far more entropy
than a password, so a slow hash would add nothing but latency to every API call).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from forecaster.core.errors import UserError
from forecaster.store.database import Store, scalar

ROLES = ("marketing", "planner", "admin")
MIN_PASSWORD = 10
TOKEN_PREFIX = "fct_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
_HASHER = PasswordHasher()
# verified against when the name is unknown, so a wrong name costs as long as a wrong password
_DUMMY = _HASHER.hash(secrets.token_hex(16))


def may(role: str, needed: str) -> bool:
    """Whether ``role`` has at least the rights of ``needed``."""
    return ROLES.index(role) >= ROLES.index(needed)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters, got {len(password)}")
    return password


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Users:
    """The ``users`` and ``api_tokens`` tables of a store (writes in the caller's transaction)."""

    def __init__(self, store: Store):
        self.con = store.con

    def get(self, name: str) -> dict | None:
        rows = self.con.execute("SELECT name, role, created_at FROM users WHERE name = ?", [name]).fetchall()
        return {"name": rows[0][0], "role": rows[0][1], "created_at": rows[0][2]} if rows else None

    def _need(self, name: str) -> dict:
        user = self.get(name)
        if user is None:
            raise UserError(f"no user {name!r}; 'forecaster users list' shows them")
        return user

    def add(self, name: str, role: str, password: str, by: str) -> None:
        if not _NAME.fullmatch(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@', '-' (starting with a "
                            "letter or digit)")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if self.get(name) is not None:
            raise UserError(f"user {name!r} exists already; 'forecaster users password {name}' sets a new password")
        now = dt.datetime.now()
        self.con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                         [name, role, _HASHER.hash(check_password(password)), now, by, now])

    def set_password(self, name: str, password: str) -> None:
        self._need(name)
        self.con.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?",
                         [_HASHER.hash(check_password(password)), dt.datetime.now(), name])

    def remove(self, name: str) -> int:
        """Remove a user and their tokens; returns how many tokens went with them."""
        self._need(name)
        tokens = int(scalar(self.con, "SELECT count(*) FROM api_tokens WHERE name = ?", [name]))
        self.con.execute("DELETE FROM api_tokens WHERE name = ?", [name])
        self.con.execute("DELETE FROM users WHERE name = ?", [name])
        return tokens

    def list(self) -> pd.DataFrame:
        return self.con.execute(
            """SELECT u.name, u.role, u.created_at, u.created_by, u.password_changed_at,
                      count(t.token_hash)::INTEGER AS tokens
               FROM users u LEFT JOIN api_tokens t USING (name) GROUP BY ALL ORDER BY u.name""").df()

    def new_token(self, name: str, by: str, replace: bool = False) -> str:
        """A new API token for ``name`` (returned once, never stored); ``replace`` revokes the others."""
        self._need(name)
        if replace:
            self.con.execute("DELETE FROM api_tokens WHERE name = ?", [name])
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?)", [_token_hash(token), name, dt.datetime.now(), by])
        return token

    def by_token(self, token: str) -> dict | None:
        rows = self.con.execute("SELECT u.name, u.role FROM api_tokens t JOIN users u USING (name) "
                                "WHERE t.token_hash = ?", [_token_hash(token)]).fetchall()
        return {"name": rows[0][0], "role": rows[0][1]} if rows else None

    def verify(self, name: str, password: str) -> tuple[dict | None, str | None]:
        """(the user, a new hash to store if argon2's parameters changed) when the password is
        right, else (None, None). Takes as long for an unknown name as for a wrong password."""
        rows = self.con.execute("SELECT name, role, password_hash FROM users WHERE name = ?", [name]).fetchall()
        stored = rows[0][2] if rows else _DUMMY
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None, None
        if not rows:
            return None, None
        rehash = _HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None
        return {"name": rows[0][0], "role": rows[0][1]}, rehash

    def store_hash(self, name: str, password_hash: str) -> None:
        self.con.execute("UPDATE users SET password_hash = ? WHERE name = ?", [password_hash, name])
