"""Security headers on every response (finding 16); the browser check of the CSP is in
tests/test_security_browser.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
#: Stored, signed documents: their bytes are fixed, so they are served with a policy naming the
#: SHA-256 of their own <style> (summit.core.middleware.document_policy) instead of a nonce.
SIGNED_DOCUMENTS = {"council/decision_document.html"}


def test_pages_carry_a_strict_policy_and_the_other_headers(demo_client: Any) -> None:
    client, _info = demo_client
    for path in ("/", "/login", "/audit", "/audit.json", "/healthz", "/static/app.css"):
        response = client.get(path)
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
    first = client.get("/").headers["content-security-policy"]
    assert first != client.get("/").headers["content-security-policy"]  # a fresh nonce


def test_templates_have_no_inline_script_handlers_or_style_attributes() -> None:
    """What the policy forbids must not be in the templates: inline event handlers,
    ``javascript:`` URLs, executable inline scripts, ``style`` attributes, and ``<style>``
    without the page's nonce."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        if re.search(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", text) or "javascript:" in text:
            problems.append(f"{name}: inline event handler or javascript: URL")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                problems.append(f"{name}: inline script {tag}")
        if re.search(r"\sstyle\s*=", text):
            problems.append(f"{name}: style attribute")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if "csp_nonce" not in tag and str(name) not in SIGNED_DOCUMENTS:
                problems.append(f"{name}: <style> without nonce")
    assert not problems, "\n".join(problems)
