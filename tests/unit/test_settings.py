"""app/settings.py: every TESSERA_* variable parsed once; a bad value names its variable."""

from __future__ import annotations

import ipaddress

import pytest

from app.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings


def test_defaults():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.env == "development" and settings.introspection is True and not settings.is_production
    assert (settings.session_idle_seconds, settings.session_max_seconds) == (1800, 43200)
    assert (settings.login_throttle_seconds, settings.invitation_ttl_seconds) == (900, 259200)
    assert settings.cors_origins == () and settings.trusted_proxies == ()


def test_production_turns_introspection_off_unless_asked():
    assert load_settings({"TESSERA_ENV": "production"}).introspection is False
    assert load_settings({"TESSERA_ENV": "production"}).is_production
    assert load_settings({"TESSERA_ENV": "production", "TESSERA_INTROSPECTION": "true"}).introspection is True
    assert load_settings({"TESSERA_ENV": "development", "TESSERA_INTROSPECTION": "false"}).introspection is False


def test_compiled_plans_are_on_unless_turned_off():
    assert load_settings({}).compiled_plans is True
    assert load_settings({"TESSERA_COMPILED_PLANS": "false"}).compiled_plans is False


def test_every_value_is_read():
    settings = load_settings(
        {
            "TESSERA_DATABASE_URL": "postgres://u:p@db.internal:5432/tessera",
            "TESSERA_ENV": "production",
            "TESSERA_PUBLIC_URL": "https://clinic.example/",
            "TESSERA_SMTP_URL": "smtp://mail.internal:25",
            "TESSERA_MAIL_FROM": "Clinic <no-reply@clinic.example>",
            "TESSERA_REDIS_URL": "redis://cache:6379/0",
            "TESSERA_CORS_ORIGINS": "https://app.clinic.example, https://admin.clinic.example/",
            "TESSERA_INTROSPECTION": "off",
            "TESSERA_LOG_LEVEL": "warning",
            "TESSERA_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1, ::1",
            "TESSERA_SESSION_IDLE_SECONDS": "60",
            "TESSERA_SESSION_MAX_SECONDS": "3600",
            "TESSERA_LOGIN_THROTTLE_SECONDS": "30",
            "TESSERA_INVITATION_TTL_SECONDS": "7200",
        }
    )
    assert settings.database_url == "postgres://u:p@db.internal:5432/tessera"
    assert settings.public_url == "https://clinic.example"
    assert settings.smtp_url == "smtp://mail.internal:25"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.cors_origins == ("https://app.clinic.example", "https://admin.clinic.example")
    assert settings.introspection is False and settings.log_level == "WARNING"
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert (settings.session_idle_seconds, settings.session_max_seconds) == (60, 3600)
    assert (settings.login_throttle_seconds, settings.invitation_ttl_seconds) == (30, 7200)


def test_empty_values_mean_the_default():
    assert load_settings({"TESSERA_ENV": "", "TESSERA_SESSION_IDLE_SECONDS": ""}) == Settings()


@pytest.mark.parametrize(
    "name, value",
    [
        ("ENV", "staging"),
        ("ENV", "Production"),
        ("DATABASE_URL", "mysql://db/tessera"),
        ("DATABASE_URL", "postgres:///nohost"),
        ("DATABASE_URL", "not a url"),
        ("PUBLIC_URL", "ftp://clinic.example"),
        ("PUBLIC_URL", "clinic.example"),
        ("SMTP_URL", "http://mail.internal"),
        ("SMTP_URL", "smtp://"),
        ("MAIL_FROM", "nobody"),
        ("REDIS_URL", "memcached://cache"),
        ("CORS_ORIGINS", "*"),
        ("CORS_ORIGINS", "app.clinic.example"),
        ("CORS_ORIGINS", "https://ok.example, javascript:alert(1)"),
        ("INTROSPECTION", "maybe"),
        ("COMPILED_PLANS", "sometimes"),
        ("LOG_LEVEL", "LOUD"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("TRUSTED_PROXIES", "proxy.internal"),
        ("SESSION_IDLE_SECONDS", "0"),
        ("SESSION_IDLE_SECONDS", "-5"),
        ("SESSION_IDLE_SECONDS", "thirty"),
        ("SESSION_MAX_SECONDS", "1.5"),
        ("LOGIN_THROTTLE_SECONDS", "0"),
        ("INVITATION_TTL_SECONDS", "1e3"),
        ("JOBS_INTERVAL_SECONDS", "never"),
    ],
)
def test_bad_values_name_their_variable(name, value):
    with pytest.raises(SettingsError) as raised:
        load_settings({f"TESSERA_{name}": value})
    assert f"TESSERA_{name}" in str(raised.value)


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)
