"""Settings: defaults, validation, and one clear line naming the bad variable."""

from __future__ import annotations

import pytest

from tripcast.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TRIPCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(str(tmp_path))  # no stray .env file


def test_defaults_follow_the_contract() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert str(settings.home) == ".tripcast"
    assert settings.whatsapp_api_url == "https://graph.facebook.com"
    assert settings.whatsapp_api_version.startswith("v")
    assert settings.send_rate == 80
    assert settings.send_rate_margin == 0.04
    assert settings.metrics_port == 9464


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    with open(".env", "w") as dotenv:
        dotenv.write("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID=106540352242922\n")
    monkeypatch.setenv("TRIPCAST_SEND_RATE", "12.5")
    monkeypatch.setenv("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAG-secret")
    settings = load_settings()
    assert settings.whatsapp_phone_number_id == "106540352242922"
    assert settings.send_rate == 12.5
    assert settings.whatsapp_access_token is not None
    assert "EAAG-secret" not in repr(settings)
    assert settings.whatsapp_access_token.get_secret_value() == "EAAG-secret"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "TRIPCAST_DATABASE_URL",
            "mysql://root:pw@db/x",
            "TRIPCAST_DATABASE_URL is invalid: must be a postgresql:// URL",
        ),
        (
            "TRIPCAST_SEND_RATE",
            "0",
            "TRIPCAST_SEND_RATE is invalid: Input should be greater than 0",
        ),
        ("TRIPCAST_SEND_RATE", "fast", "TRIPCAST_SEND_RATE is invalid"),
        ("TRIPCAST_SEND_RATE_MARGIN", "0.6", "TRIPCAST_SEND_RATE_MARGIN is invalid"),
        ("TRIPCAST_SEND_RATE_MARGIN", "-0.1", "TRIPCAST_SEND_RATE_MARGIN is invalid"),
        ("TRIPCAST_WHATSAPP_API_VERSION", "23", "TRIPCAST_WHATSAPP_API_VERSION is invalid"),
        ("TRIPCAST_WHATSAPP_API_URL", "graph.facebook.com", "TRIPCAST_WHATSAPP_API_URL is invalid"),
        ("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", "+351 91", "TRIPCAST_WHATSAPP_PHONE_NUMBER_ID"),
        ("TRIPCAST_METRICS_PORT", "65536", "TRIPCAST_METRICS_PORT is invalid"),
        ("TRIPCAST_METRICS_PORT", "-1", "TRIPCAST_METRICS_PORT is invalid"),
        ("TRIPCAST_METRICS_PORT", "http", "TRIPCAST_METRICS_PORT is invalid"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert "pw@" not in message  # a URL's password is never echoed


def test_require_names_the_missing_variable() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match=r"^TRIPCAST_WHATSAPP_ACCESS_TOKEN is not set"):
        settings.require("whatsapp_api_url", "whatsapp_access_token")


def test_blank_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPCAST_DATABASE_URL", "  ")
    assert load_settings().database_url is None


STRAY = "must not contain spaces, newlines or control characters"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAGsecret\n", STRAY),
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAGsecret\r\nX-Injected: 1", STRAY),
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", " EAAGsecret", STRAY),
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAG\x7fsecret", STRAY),
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAGsécret", "must be plain ASCII"),
        ("TRIPCAST_WHATSAPP_APP_SECRET", "0123abcsecret\n", STRAY),
        ("TRIPCAST_WHATSAPP_VERIFY_TOKEN", "verify secret", STRAY),
        ("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", "106540352242922\n", "must be the numeric"),
        ("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", "١٠٦٥٤", "must be the numeric"),
        ("TRIPCAST_WHATSAPP_API_VERSION", "v23.0\n", "must look like v23.0"),
        ("TRIPCAST_WHATSAPP_API_VERSION", "v٢٣.0", "must look like v23.0"),
        ("TRIPCAST_WHATSAPP_API_URL", "https://graph.facebook.com\n", STRAY),
        ("TRIPCAST_WHATSAPP_API_URL", "https://", "must start with http:// or https://"),
        ("TRIPCAST_WHATSAPP_API_URL", "https://graph.facebook.com:x", "is not a valid URL"),
        ("TRIPCAST_WHATSAPP_API_URL", "https://u:secret@graph.facebook.com", "must be a base URL"),
        ("TRIPCAST_WHATSAPP_API_URL", "https://graph.facebook.com/?secret=1", "must be a base URL"),
        ("TRIPCAST_DATABASE_URL", "postgresql://u:secret@db/x\n", STRAY),
        ("TRIPCAST_SMTP_URL", "smtp://u:secret@mail:25\n", STRAY),
        ("TRIPCAST_EMAIL_FROM", "a@example.com\nBcc: secret@example.com", "must be one email"),
        ("TRIPCAST_EMAIL_FROM", "nobody", "must be one email"),
    ],
)
def test_a_value_unusable_in_a_header_or_url_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable} is invalid: {expected}")
    assert "\n" not in message
    assert "secret" not in message  # the value itself is never echoed


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "EAAG-abc_123.XYZ|pipe"),
        ("TRIPCAST_WHATSAPP_API_URL", "http://127.0.0.1:8787/"),
        ("TRIPCAST_EMAIL_FROM", "Trip reminders <trips@example.com>"),
        ("TRIPCAST_DATABASE_URL", "postgresql://u:p@db/x?options=-c statement_timeout=5000"),
    ],
)
def test_ordinary_values_of_the_checked_settings_are_kept(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    settings = load_settings()
    kept = getattr(settings, variable.removeprefix("TRIPCAST_").lower())
    shown = kept.get_secret_value() if hasattr(kept, "get_secret_value") else kept
    assert shown == value.rstrip("/")


@pytest.mark.parametrize("blank", ["", " ", "\n"])
def test_a_blank_token_counts_as_unset(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv("TRIPCAST_WHATSAPP_ACCESS_TOKEN", blank)
    with pytest.raises(ConfigError, match=r"^TRIPCAST_WHATSAPP_ACCESS_TOKEN is not set"):
        load_settings().require("whatsapp_access_token")
