"""Accounts of the workspace: the people who sign in, their roles, and the API tokens scripts use.

Passwords are kept as Argon2id hashes (argon2-cffi, with its recommended parameters), re-hashed
on sign-in when those parameters grow. An API token is 32 random bytes shown once; only its
SHA-256 is stored, which is enough for a secret that long (no dictionary to try).

The rules (names, roles, passwords, tokens) are pure functions; the few at the end put them
together with the store, which keeps the rows.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.errors import AccountError

if TYPE_CHECKING:
    from monitor.store import Store

MIN_PASSWORD_CHARS = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOKEN_PREFIX = "fm_"  # recognisable in a leaked-secret scan
_HASHER = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"  # everything, and the sources' health
    READER = "reader"  # browse, search, give feedback


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    created_at: datetime
    signed_out_at: datetime | None = None  # sessions issued before it are void


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"user name {name!r}: use 1 to 64 letters, digits and . _ @ - (starting with a "
            "letter or digit)"
        )
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            f"role {role!r}: use one of {', '.join(r.value for r in Role)}"
        ) from None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if password != password.strip():
        raise AccountError("the password must not begin or end with spaces")
    return _HASHER.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- with the store ------------------------------------------------------------------------------


def create(store: Store, name: str, role: str, password: str, now: datetime) -> User:
    checked, chosen = check_name(name), check_role(role)
    user_id = store.add_user(checked, chosen.value, hash_password(password), now)
    return User(user_id, checked, chosen, now)


def sign_in(store: Store, name: str, password: str) -> User | None:
    """The user when the password is theirs, else None (an unknown name costs a hash too, so
    that timing does not tell which names exist)."""
    row = store.user_login(name)
    if row is None:
        password_matches(_dummy_hash(), password)
        return None
    if not password_matches(row["password_hash"], password):
        return None
    if needs_rehash(row["password_hash"]):
        store.set_password_hash(row["id"], _HASHER.hash(password))
    return _user(row)


def issue_token(store: Store, name: str, now: datetime) -> str:
    token = new_token()
    store.add_token(name, token_hash(token), now)
    return token


def by_token(store: Store, token: str, now: datetime) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = store.user_by_token(token_hash(token), now)
    return _user(row) if row else None


def by_id(store: Store, user_id: int) -> User | None:
    row = store.user(user_id)
    return _user(row) if row else None


def _user(row: Mapping[str, Any]) -> User:
    return User(
        row["id"], row["name"], Role(row["role"]), row["created_at"], row.get("signed_out_at")
    )


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
