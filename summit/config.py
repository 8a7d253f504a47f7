"""Settings from the environment (``SUMMIT_*``); the embedded default needs no services."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from summit.core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _int(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything the platform reads from its environment.

    The embedded default is a SQLite file in ``data_dir`` and an in-process event bus.
    """

    data_dir: Path = field(default_factory=lambda: project_root() / "data")
    database_url: str = ""
    event_bus_url: str = "memory://"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = False
    web_dir: Path = field(default_factory=lambda: project_root() / "web")
    default_language: str = "nl"
    login_rate_per_minute: int = 10
    link_rate_per_minute: int = 30
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{self.data_dir / 'summit.db'}"
            )
        if not self.secret_key:
            object.__setattr__(self, "secret_key", _load_or_create_secret(self.data_dir))
        scheme = self.database_url.split(":", 1)[0]
        if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ConfigError(
                "SUMMIT_DATABASE_URL: use sqlite+aiosqlite:///PATH or "
                f"postgresql+asyncpg://USER@HOST/DB, got scheme {scheme!r}"
            )
        bus = self.event_bus_url.split(":", 1)[0]
        if bus not in {"memory", "redis", "rediss"}:
            raise ConfigError(
                f"SUMMIT_EVENT_BUS_URL: use memory:// or redis://HOST:PORT/DB, got scheme {bus!r}"
            )
        if self.default_language not in {"nl", "en"}:
            raise ConfigError(
                f"SUMMIT_DEFAULT_LANGUAGE: use nl or en, got {self.default_language!r}"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {}
        if "SUMMIT_DATA_DIR" in env:
            kwargs["data_dir"] = Path(env["SUMMIT_DATA_DIR"]).expanduser().resolve()
        if "SUMMIT_DATABASE_URL" in env:
            kwargs["database_url"] = env["SUMMIT_DATABASE_URL"]
        if "SUMMIT_EVENT_BUS_URL" in env:
            kwargs["event_bus_url"] = env["SUMMIT_EVENT_BUS_URL"]
        if "SUMMIT_SECRET_KEY" in env:
            if len(env["SUMMIT_SECRET_KEY"]) < 32:
                raise ConfigError("SUMMIT_SECRET_KEY: must be at least 32 characters")
            kwargs["secret_key"] = env["SUMMIT_SECRET_KEY"]
        if "SUMMIT_BASE_URL" in env:
            base = env["SUMMIT_BASE_URL"].rstrip("/")
            if not base.startswith(("http://", "https://")):
                raise ConfigError(
                    f"SUMMIT_BASE_URL: must start with http:// or https://, got {base!r}"
                )
            kwargs["base_url"] = base
            kwargs["cookie_secure"] = base.startswith("https://")
        if "SUMMIT_COOKIE_SECURE" in env:
            kwargs["cookie_secure"] = _bool("SUMMIT_COOKIE_SECURE", env["SUMMIT_COOKIE_SECURE"])
        if "SUMMIT_WEB_DIR" in env:
            kwargs["web_dir"] = Path(env["SUMMIT_WEB_DIR"])
        if "SUMMIT_DEFAULT_LANGUAGE" in env:
            kwargs["default_language"] = env["SUMMIT_DEFAULT_LANGUAGE"]
        if "SUMMIT_LOGIN_RATE_PER_MINUTE" in env:
            kwargs["login_rate_per_minute"] = _int(
                "SUMMIT_LOGIN_RATE_PER_MINUTE", env["SUMMIT_LOGIN_RATE_PER_MINUTE"], 1
            )
        if "SUMMIT_LINK_RATE_PER_MINUTE" in env:
            kwargs["link_rate_per_minute"] = _int(
                "SUMMIT_LINK_RATE_PER_MINUTE", env["SUMMIT_LINK_RATE_PER_MINUTE"], 1
            )
        if "SUMMIT_LOG_LEVEL" in env:
            kwargs["log_level"] = env["SUMMIT_LOG_LEVEL"].lower()
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]


#: Every environment variable the platform reads; docs/configuration.md documents each one.
ENVIRONMENT_VARIABLES = (
    "SUMMIT_DATA_DIR",
    "SUMMIT_DATABASE_URL",
    "SUMMIT_EVENT_BUS_URL",
    "SUMMIT_SECRET_KEY",
    "SUMMIT_BASE_URL",
    "SUMMIT_COOKIE_SECURE",
    "SUMMIT_WEB_DIR",
    "SUMMIT_DEFAULT_LANGUAGE",
    "SUMMIT_LOGIN_RATE_PER_MINUTE",
    "SUMMIT_LINK_RATE_PER_MINUTE",
    "SUMMIT_LOG_LEVEL",
    "SUMMIT_EMBEDDING_MODEL",
)


def _load_or_create_secret(data_dir: Path) -> str:
    # A per-installation secret kept beside the SQLite file, so sessions survive restarts.
    path = data_dir / "secret.key"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
    except OSError as exc:
        raise ConfigError(f"SUMMIT_DATA_DIR: cannot write {path}: {exc.strerror}") from None
