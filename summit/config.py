"""Settings from the environment (``SUMMIT_*``); the embedded default needs no services."""

from __future__ import annotations

import ipaddress
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


_TEXT = {
    "SUMMIT_DATABASE_URL": "database_url",
    "SUMMIT_EVENT_BUS_URL": "event_bus_url",
    "SUMMIT_DEFAULT_LANGUAGE": "default_language",
}
_WHOLE = {  # setting: (field, minimum)
    "SUMMIT_LOGIN_RATE_PER_MINUTE": ("login_rate_per_minute", 1),
    "SUMMIT_LINK_RATE_PER_MINUTE": ("link_rate_per_minute", 1),
    "SUMMIT_SESSION_HOURS": ("session_hours", 1),
}


def _plain_settings(env: dict[str, str]) -> dict[str, object]:
    """The settings that are read as they are: text, whole numbers, paths."""
    out: dict[str, object] = {field: env[name] for name, field in _TEXT.items() if name in env}
    for name, (field_name, minimum) in _WHOLE.items():
        if name in env:
            out[field_name] = _int(name, env[name], minimum)
    if "SUMMIT_DATA_DIR" in env:
        out["data_dir"] = Path(env["SUMMIT_DATA_DIR"]).expanduser().resolve()
    if "SUMMIT_WEB_DIR" in env:
        out["web_dir"] = Path(env["SUMMIT_WEB_DIR"])
    if "SUMMIT_LOG_LEVEL" in env:
        out["log_level"] = env["SUMMIT_LOG_LEVEL"].lower()
    if "SUMMIT_TRUSTED_PROXIES" in env:
        out["trusted_proxies"] = _proxies(env["SUMMIT_TRUSTED_PROXIES"])
    return out


def _key_settings(env: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    if "SUMMIT_SECRET_KEY" in env:
        if len(env["SUMMIT_SECRET_KEY"]) < 32:
            raise ConfigError("SUMMIT_SECRET_KEY: must be at least 32 characters")
        out["secret_key"] = env["SUMMIT_SECRET_KEY"]
    if "SUMMIT_SECRET_KEY_FILE" in env:
        out["secret_key_file"] = Path(env["SUMMIT_SECRET_KEY_FILE"]).expanduser().resolve()
    return out


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_secret_key_file() -> Path:
    """Where the generated installation secret lives: outside the data folder, so a backup or a
    copy of the data never carries the key (``$XDG_CONFIG_HOME/g1000-summit/secret.key``)."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home).expanduser() / "g1000-summit" / "secret.key"


def _proxies(value: str) -> tuple[str, ...]:
    out = []
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"SUMMIT_TRUSTED_PROXIES: {part!r} is not an IP address or network"
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    """Everything the platform reads from its environment.

    The embedded default is a SQLite file in ``data_dir`` and an in-process event bus.
    """

    data_dir: Path = field(default_factory=lambda: project_root() / "data")
    database_url: str = ""
    event_bus_url: str = "memory://"
    secret_key: str = ""
    secret_key_file: Path = field(default_factory=default_secret_key_file)
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = False
    web_dir: Path = field(default_factory=lambda: project_root() / "web")
    default_language: str = "nl"
    login_rate_per_minute: int = 10
    link_rate_per_minute: int = 30
    log_level: str = "info"
    trusted_proxies: tuple[str, ...] = ()
    session_hours: int = 14 * 24
    smtp_url: str = ""  # e-mail through this SMTP server; empty: e-mail is off

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{self.data_dir / 'summit.db'}"
            )
        if not self.secret_key:
            object.__setattr__(self, "secret_key", _load_or_create_secret(self.key_path))
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

    @property
    def key_path(self) -> Path:
        """The key file in use: the legacy ``secret.key`` in the data folder while one exists
        (``summit doctor`` warns about it), else ``secret_key_file``."""
        legacy = self.data_dir / "secret.key"
        return legacy if legacy.exists() else self.secret_key_file

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {**_plain_settings(env), **_key_settings(env)}
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
        if env.get("SUMMIT_SMTP_URL"):
            if not env["SUMMIT_SMTP_URL"].startswith(("smtp://", "smtp+starttls://", "smtps://")):
                raise ConfigError(
                    "SUMMIT_SMTP_URL: use smtp://, smtp+starttls:// or smtps://HOST?from=ADDRESS"
                )
            kwargs["smtp_url"] = env["SUMMIT_SMTP_URL"]
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]


#: Every environment variable the platform reads; docs/configuration.md documents each one.
ENVIRONMENT_VARIABLES = (
    "SUMMIT_DATA_DIR",
    "SUMMIT_DATABASE_URL",
    "SUMMIT_EVENT_BUS_URL",
    "SUMMIT_SECRET_KEY",
    "SUMMIT_SECRET_KEY_FILE",
    "SUMMIT_BASE_URL",
    "SUMMIT_COOKIE_SECURE",
    "SUMMIT_WEB_DIR",
    "SUMMIT_DEFAULT_LANGUAGE",
    "SUMMIT_LOGIN_RATE_PER_MINUTE",
    "SUMMIT_LINK_RATE_PER_MINUTE",
    "SUMMIT_TRUSTED_PROXIES",
    "SUMMIT_SESSION_HOURS",
    "SUMMIT_LOG_LEVEL",
    "SUMMIT_SMTP_URL",
    "SUMMIT_EMBEDDING_MODEL",
)


def _load_or_create_secret(path: Path) -> str:
    # Generated once, mode 0600, outside the data folder (see default_secret_key_file).
    try:
        if path.exists():
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
            raise ConfigError(f"SUMMIT_SECRET_KEY_FILE: {path} holds fewer than 32 characters")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value)
        return value
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"SUMMIT_SECRET_KEY_FILE: cannot use {path}: {exc.strerror}; "
            "set SUMMIT_SECRET_KEY or SUMMIT_SECRET_KEY_FILE"
        ) from None
