"""ASGI middleware of the application: security headers on every response, and the client
address taken from ``X-Forwarded-For`` only when the request came through a trusted proxy."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def content_security_policy(nonce: str, base_url: str, *, styles: Iterable[str] = ()) -> str:
    """Only this site's own scripts, styles, fonts and connections; no inline script at all,
    inline ``<style>`` only with the page's nonce (or a listed hash); never framed."""
    host = urlsplit(base_url).netloc
    style_sources = " ".join(["'self'", f"'nonce-{nonce}'", *styles])
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_sources}",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "media-src 'self' blob: mediastream:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def document_policy(html: str, base_url: str) -> str:
    """The policy for a stored, signed HTML document (its bytes cannot carry a fresh nonce):
    its own ``<style>`` blocks are allowed by their SHA-256, nothing else inline."""
    blocks = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S | re.I)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    ]
    return content_security_policy(secrets.token_urlsafe(16), base_url, styles=hashes)


class SecurityHeaders:
    """Adds CSP (with a fresh nonce per response, offered to templates as ``csp_nonce``),
    ``nosniff``, ``Referrer-Policy: no-referrer`` (personal links are in URLs), framing refusal,
    and HSTS behind HTTPS."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self.https = base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:  # a signed document sets its own
                    headers["content-security-policy"] = content_security_policy(
                        nonce, self.base_url
                    )
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "no-referrer"
                headers["x-frame-options"] = "DENY"
                headers["cross-origin-opener-policy"] = "same-origin"
                headers["permissions-policy"] = (
                    "camera=(self), microphone=(self), display-capture=(self), geolocation=(), "
                    "payment=(), usb=()"
                )
                if self.https:
                    headers["strict-transport-security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, with_headers)


class TrustedProxies:
    """Replace the client address (and scheme) with what a trusted reverse proxy forwarded.

    Only a request whose direct peer is in ``proxies`` is believed; the client is the
    right-most ``X-Forwarded-For`` address that is not itself a trusted proxy. With no proxies
    configured (the default) the headers are ignored, so nobody can pick their own address to
    slip past the rate limits.
    """

    def __init__(self, app: ASGIApp, proxies: Iterable[str]) -> None:
        self.app = app
        self.networks: list[IPNetwork] = [ipaddress.ip_network(p, strict=False) for p in proxies]

    def trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in {"http", "websocket"} and client and self.trusted(client[0]):
            self._rewrite(scope, client)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope, client: tuple[str, int]) -> None:
        headers = dict(scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusted(hop):
                scope["client"] = (hop, client[1])
                break
        proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
        if proto in {"http", "https"}:
            secure = proto == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto
