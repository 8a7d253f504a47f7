"""The video tables' settings from the environment (media workers or nodes, STUN/TURN, ports,
addresses): every variable checked at start-up, a bad value stops with one line naming it."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from summit.core.errors import ConfigError
from summit.media import IceServer, MediaConfig
from summit.video.turn import rest_login

#: Every environment variable of the video tables; docs/video.md documents each one.
VIDEO_ENVIRONMENT_VARIABLES = (
    "SUMMIT_MEDIA_WORKERS",
    "SUMMIT_MEDIA_LOOPBACK",
    "SUMMIT_MEDIA_HOST_ADDRESSES",
    "SUMMIT_STUN_URLS",
    "SUMMIT_TURN_URLS",
    "SUMMIT_TURN_USERNAME",
    "SUMMIT_TURN_CREDENTIAL",
    "SUMMIT_TURN_SECRET",
    "SUMMIT_TURN_TTL",
    "SUMMIT_MEDIA_GRACE_SECONDS",
    "SUMMIT_MEDIA_NODES",
    "SUMMIT_MEDIA_NODE_KEY",
)


class VideoConfigError(ConfigError, ValueError):
    """A video setting that cannot be used; the message names the variable."""


def _urls(name: str, value: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
    urls = tuple(u.strip() for u in value.split(",") if u.strip())
    for url in urls:
        if not url.startswith(schemes):
            raise VideoConfigError(
                f"{name}: {url!r} must start with {' or '.join(s for s in schemes)}"
            )
    return urls


def _number(name: str, value: str, minimum: float, maximum: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise VideoConfigError(f"{name}: must be a number, got {value!r}") from None
    if not minimum <= number <= maximum:
        raise VideoConfigError(f"{name}: must be between {minimum:g} and {maximum:g}")
    return number


@dataclass(frozen=True)
class VideoSettings:
    """The video tables' settings, read from ``SUMMIT_MEDIA_*``, ``SUMMIT_STUN_*`` and
    ``SUMMIT_TURN_*`` environment variables."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Media worker processes; 0 runs the media plane inside the app process."""
    host_addresses: tuple[str, ...] | None = None
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_username: str | None = None
    turn_credential: str | None = None
    turn_secret: str | None = None
    """coturn's ``static-auth-secret``: browsers get time-limited credentials (RFC 8489 REST)."""
    turn_ttl: int = 12 * 3600
    grace_seconds: float = 15.0
    """How long a seat's media stays up after its signalling socket drops (a reconnect within
    this time keeps everything flowing)."""
    nodes_url: str | None = None
    """Redis URL of the media nodes' registry: tables go to ``summit media-node`` hosts instead
    of this process's own workers."""
    node_key: str | None = None
    """The seat-token key shared with the media nodes (at least 32 characters)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VideoSettings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if env.get("SUMMIT_MEDIA_WORKERS", "").strip():
            values["workers"] = int(
                _number("SUMMIT_MEDIA_WORKERS", env["SUMMIT_MEDIA_WORKERS"], 0, 256)
            )
        loopback = env.get("SUMMIT_MEDIA_LOOPBACK", "").strip().lower()
        if loopback not in {"", "0", "1", "true", "false", "yes", "no"}:
            raise VideoConfigError(f"SUMMIT_MEDIA_LOOPBACK: use 1 or 0, got {loopback!r}")
        hosts = tuple(
            a.strip() for a in env.get("SUMMIT_MEDIA_HOST_ADDRESSES", "").split(",") if a.strip()
        )
        if loopback in {"1", "true", "yes"}:
            hosts = ("127.0.0.1",)
        values["host_addresses"] = hosts or None
        values["stun_urls"] = _urls("SUMMIT_STUN_URLS", env.get("SUMMIT_STUN_URLS", ""), ("stun:",))
        values["turn_urls"] = _urls(
            "SUMMIT_TURN_URLS", env.get("SUMMIT_TURN_URLS", ""), ("turn:", "turns:")
        )
        values["turn_username"] = env.get("SUMMIT_TURN_USERNAME") or None
        values["turn_credential"] = env.get("SUMMIT_TURN_CREDENTIAL") or None
        values["turn_secret"] = env.get("SUMMIT_TURN_SECRET") or None
        if env.get("SUMMIT_TURN_TTL", "").strip():
            values["turn_ttl"] = int(
                _number("SUMMIT_TURN_TTL", env["SUMMIT_TURN_TTL"], 60, 7 * 86400)
            )
        if env.get("SUMMIT_MEDIA_GRACE_SECONDS", "").strip():
            values["grace_seconds"] = _number(
                "SUMMIT_MEDIA_GRACE_SECONDS", env["SUMMIT_MEDIA_GRACE_SECONDS"], 0, 600
            )
        nodes = env.get("SUMMIT_MEDIA_NODES", "").strip()
        if nodes:
            if not nodes.startswith(("redis://", "rediss://")):
                raise VideoConfigError(
                    f"SUMMIT_MEDIA_NODES: expected a redis:// URL, got {nodes!r}"
                )
            values["nodes_url"] = nodes
            values["node_key"] = env.get("SUMMIT_MEDIA_NODE_KEY", "")
            if len(values["node_key"]) < 32:
                raise VideoConfigError(
                    "SUMMIT_MEDIA_NODE_KEY: needs at least 32 characters with SUMMIT_MEDIA_NODES"
                )
        settings = cls(**values)
        if settings.turn_urls and not (
            settings.turn_secret or (settings.turn_username and settings.turn_credential)
        ):
            raise VideoConfigError(
                "SUMMIT_TURN_URLS: set SUMMIT_TURN_SECRET, or SUMMIT_TURN_USERNAME and "
                "SUMMIT_TURN_CREDENTIAL"
            )
        return settings

    def turn_login(self, user: str, now: float | None = None) -> tuple[str, str] | None:
        """TURN username and credential: static, or time-limited from the shared secret
        (``<expiry>:<user>`` signed with HMAC-SHA1, as coturn's ``use-auth-secret`` checks)."""
        if not self.turn_urls:
            return None
        if self.turn_secret:
            expiry = (now if now is not None else time.time()) + self.turn_ttl
            return rest_login(self.turn_secret, user, expiry)
        assert self.turn_username is not None and self.turn_credential is not None
        return self.turn_username, self.turn_credential

    def ice_servers(self, user: str, now: float | None = None) -> list[dict[str, Any]]:
        """``iceServers`` for a browser's ``RTCPeerConnection`` (empty: host candidates only)."""
        servers: list[dict[str, Any]] = []
        if self.stun_urls:
            servers.append({"urls": list(self.stun_urls)})
        login = self.turn_login(user, now)
        if login is not None:
            servers.append(
                {"urls": list(self.turn_urls), "username": login[0], "credential": login[1]}
            )
        return servers

    def media_config(self) -> MediaConfig:
        servers = [
            IceServer(
                urls=tuple(s["urls"]), username=s.get("username"), credential=s.get("credential")
            )
            for s in self.ice_servers("media-worker", now=time.time() + 7 * 86400)
        ]
        return MediaConfig(ice_servers=tuple(servers), host_addresses=self.host_addresses)
