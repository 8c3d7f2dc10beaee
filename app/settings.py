"""Settings from the `TESSERA_*` environment variables (the README "Configuration").

Every value is parsed and checked once, at start: a bad value stops the process with one line that
names the variable, rather than failing later on the first request that happens to read it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "sqlite://data/tessera.sqlite3"


class SettingsError(ValueError):
    """A `TESSERA_*` variable holds a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    env: str = "development"
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "Tessera <no-reply@tessera.local>"
    redis_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    introspection: bool = True
    # Reads run through a compiled plan per document (schema/compiled.py) and read only the columns
    # their selection needs (schema/reads.py); off: graphql-core only, every column read.
    compiled_plans: bool = True
    log_level: str = "INFO"
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())
    session_idle_seconds: int = 1800
    session_max_seconds: int = 43200
    login_throttle_seconds: int = 900
    invitation_ttl_seconds: int = 259200
    jobs_interval_seconds: int = 60
    # API tokens: the longest lifetime a token may have (a longer or absent expiry is capped to it),
    # and each token's cost budget, a leaky bucket (resolvers/buckets.py).
    api_token_max_days: int = 366
    token_bucket_size: int = 1000
    token_bucket_restore_rate: int = 50
    # Production's /metrics answers only `Authorization: Bearer <this>` (none: /metrics is off).
    metrics_token: str | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"TESSERA_{name} must be true or false, not {raw!r}")


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"TESSERA_{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"TESSERA_{name} must be greater than 0, not {raw!r}")
    return value


def _url(name: str, raw: str, schemes: set[str]) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise SettingsError(f"TESSERA_{name} must be a URL with scheme {allowed}, not {raw!r}")
    if parsed.scheme not in {"sqlite"} and not parsed.hostname:
        raise SettingsError(f"TESSERA_{name} must name a host: {raw!r}")
    return raw


def _database_url(raw: str) -> str:
    return _url("DATABASE_URL", raw, {"sqlite", "postgres", "postgresql", "asyncpg", "psycopg"})


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise SettingsError(f"TESSERA_CORS_ORIGINS holds {origin!r}, which is not an http(s) origin")
    return origins


def _proxies(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(f"TESSERA_TRUSTED_PROXIES holds {item!r}, which is not an IP or network") from None
    return tuple(networks)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every `TESSERA_*` variable; raise SettingsError naming the first bad one."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(f"TESSERA_{name}")
        return value if value not in (None, "") else None

    kwargs: dict[str, object] = {}
    if (raw := get("ENV")) is not None:
        if raw not in {"development", "production"}:
            raise SettingsError(f"TESSERA_ENV must be development or production, not {raw!r}")
        kwargs["env"] = raw
    if (raw := get("DATABASE_URL")) is not None:
        kwargs["database_url"] = _database_url(raw)
    if (raw := get("PUBLIC_URL")) is not None:
        kwargs["public_url"] = _url("PUBLIC_URL", raw, {"http", "https"}).rstrip("/")
    if (raw := get("SMTP_URL")) is not None:
        kwargs["smtp_url"] = _url("SMTP_URL", raw, {"smtp", "smtps"})
    if (raw := get("MAIL_FROM")) is not None:
        if "@" not in raw:
            raise SettingsError(f"TESSERA_MAIL_FROM must hold an email address, not {raw!r}")
        kwargs["mail_from"] = raw
    if (raw := get("REDIS_URL")) is not None:
        kwargs["redis_url"] = _url("REDIS_URL", raw, {"redis", "rediss", "unix"})
    if (raw := get("METRICS_TOKEN")) is not None:
        if len(raw) < 16:
            raise SettingsError("TESSERA_METRICS_TOKEN must be at least 16 characters (a random secret)")
        kwargs["metrics_token"] = raw
    if (raw := get("CORS_ORIGINS")) is not None:
        kwargs["cors_origins"] = _origins(raw)
    production = kwargs.get("env") == "production"
    kwargs["introspection"] = not production
    if (raw := get("INTROSPECTION")) is not None:
        kwargs["introspection"] = _bool("INTROSPECTION", raw)
    if (raw := get("COMPILED_PLANS")) is not None:
        kwargs["compiled_plans"] = _bool("COMPILED_PLANS", raw)
    if (raw := get("LOG_LEVEL")) is not None:
        level = raw.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(f"TESSERA_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {raw!r}")
        kwargs["log_level"] = level
    if (raw := get("TRUSTED_PROXIES")) is not None:
        kwargs["trusted_proxies"] = _proxies(raw)
    for name in (
        "SESSION_IDLE_SECONDS",
        "SESSION_MAX_SECONDS",
        "LOGIN_THROTTLE_SECONDS",
        "INVITATION_TTL_SECONDS",
        "JOBS_INTERVAL_SECONDS",
        "API_TOKEN_MAX_DAYS",
        "TOKEN_BUCKET_SIZE",
        "TOKEN_BUCKET_RESTORE_RATE",
    ):
        if (raw := get(name)) is not None:
            kwargs[name.lower()] = _positive_int(name, raw)
    return Settings(**kwargs)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
