"""Checks of an installation's security setup, for ``summit doctor`` and the start of ``serve``.

Each check returns plain lines (no personal data, never the key itself).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from summit.config import Settings


@dataclass(frozen=True)
class Finding:
    level: str  # "ok" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def sqlite_path(settings: Settings) -> Path | None:
    if not settings.is_sqlite or ":///" not in settings.database_url:
        return None
    raw = settings.database_url.split(":///", 1)[1]
    return None if raw in {"", ":memory:"} else Path(raw).resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def key_findings(settings: Settings) -> list[Finding]:
    """Where the secret key lives: never in the data folder or beside the SQLite file, where a
    backup or copy of the data would carry it (and with it every ballot receipt and code)."""
    if "SUMMIT_SECRET_KEY" in os.environ:
        return [Finding("ok", "secret key from SUMMIT_SECRET_KEY (not stored in a file)")]
    path = settings.key_path
    database = sqlite_path(settings)
    folders = [settings.data_dir] + ([database.parent] if database else [])
    if not path.exists():
        return [Finding("ok", f"secret key file {path} (not created yet)")]
    if any(_inside(path, folder) for folder in folders):
        return [
            Finding(
                "warning",
                f"the secret key {path} is beside the database: a backup or copy of the data "
                "folder carries it. Move it out, e.g. to "
                f"{settings.secret_key_file}, and set SUMMIT_SECRET_KEY_FILE if you choose "
                "another place (see docs/security.md, 'The secret key')",
            )
        ]
    findings = [Finding("ok", f"secret key file {path}, outside the data folder")]
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        findings.append(
            Finding("warning", f"the secret key {path} can be read by others: chmod 600 {path}")
        )
    return findings


def database_findings(settings: Settings) -> list[Finding]:
    database = sqlite_path(settings)
    if database is None:
        return [Finding("ok", "PostgreSQL: back it up with pg_dump (the key is never in it)")]
    if database.exists() and stat.S_IMODE(database.stat().st_mode) & 0o007:
        return [Finding("warning", f"the database {database} can be read by everyone: chmod 600")]
    return [Finding("ok", f"SQLite database {database}")]


def transport_findings(settings: Settings) -> list[Finding]:
    findings = []
    local = settings.base_url.startswith(("http://127.0.0.1", "http://localhost"))
    if not settings.cookie_secure and not local:
        findings.append(
            Finding(
                "warning",
                f"{settings.base_url} is not HTTPS: sessions travel unencrypted "
                "(set SUMMIT_BASE_URL=https://...)",
            )
        )
    proxies = ", ".join(settings.trusted_proxies) or "none"
    findings.append(Finding("ok", f"X-Forwarded-For is believed only from: {proxies}"))
    return findings


def check(settings: Settings) -> list[Finding]:
    """Every check, in order."""
    return key_findings(settings) + database_findings(settings) + transport_findings(settings)


def backup_sqlite(source: Path, destination: Path) -> int:
    """Copy a live SQLite database with SQLite's online backup API (consistent while the app
    writes); returns the size in bytes. Only the database: the key is never in it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    try:
        source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(destination)
        try:
            source_db.backup(target)
            (result,) = target.execute("PRAGMA integrity_check").fetchone()
        finally:
            target.close()
            source_db.close()
        if result != "ok":
            raise OSError(f"the copy does not pass SQLite's integrity check: {result}")
    except BaseException:
        destination.unlink(missing_ok=True)  # never leave half a backup
        raise
    return destination.stat().st_size
