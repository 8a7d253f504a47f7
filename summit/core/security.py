"""Passwords, personal-link tokens, invitation codes and CSRF tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
#: Argon2 takes ~0.2 s of CPU per check: it runs on these threads, never on the event loop, and
#: at most this many at a time (a login flood queues here instead of stalling every request).
HASH_THREADS = max(1, min(4, (os.cpu_count() or 2) - 1))
_hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")

#: Characters of invitation codes: no 0/O, 1/I/L, so a code read off a letter is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("password: use at least 10 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` on the hashing threads (raises its ``ValueError``)."""
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """:func:`verify_password` on the hashing threads, so the event loop keeps serving."""
    return await asyncio.get_running_loop().run_in_executor(
        _hash_pool, verify_password, password_hash, password
    )


def new_token() -> str:
    """A personal-link token: 256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store them safely.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code(length: int = 10) -> str:
    """A registration code for a printed letter (about 50 bits for 10 characters)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _code_key(secret_key: str) -> bytes:
    label = b"summit.invitation-codes.v1"
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).digest()


def rekey_code_digest(secret_key: str, digest: str) -> str:
    """The keyed hash of a code from its plain SHA-256 digest (how the stored hashes of earlier
    versions are converted in place, see migration 0012)."""
    return hmac.new(_code_key(secret_key), digest.encode("ascii"), hashlib.sha256).hexdigest()


def code_hash(secret_key: str, code: str) -> str:
    """What is stored of an invitation code: HMAC-SHA-256 under a key derived from the server
    secret. Codes carry only ~50 bits, so a plain hash could be brute-forced from a copy of the
    database; without the key (kept outside the data folder) it cannot."""
    return rekey_code_digest(secret_key, token_hash(code))


def new_pseudonym(prefix: str = "P") -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
