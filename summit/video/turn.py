"""TURN logins for the browsers: coturn's TURN REST scheme (``use-auth-secret``).

The app and coturn share one secret (``SUMMIT_TURN_SECRET`` = coturn's ``static-auth-secret``);
nothing is stored per person. A login is

* username ``"<expiry>:<user>"`` — the Unix time after which coturn refuses it, and the media id
  (``p<participant id>``, ``s<staff id>``): a pseudonym, never a name, because coturn logs it;
* password ``base64(HMAC-SHA1(secret, username))`` — what coturn recomputes to check it.

A revoked personal link gets no new login; one already handed out lasts until its expiry
(``SUMMIT_TURN_TTL``), and coturn ends the relay when its allocation is not refreshed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def rest_login(secret: str, user: str, expires_at: float) -> tuple[str, str]:
    """The (username, password) coturn accepts for ``user`` until ``expires_at``."""
    if not user or ":" in user:
        raise ValueError("user: a media id without ':'")
    username = f"{int(expires_at)}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()
