"""Configuration: one ``Settings`` object read from ``TRIPCAST_*`` variables and ``.env``.

Missing or invalid values surface as a ``ConfigError`` whose message is one line naming
the variable, so the command line can print it and exit non-zero at start-up. Every
value that ends up in an HTTP header, a URL or a mail header is checked here, so that
a token pasted with a trailing newline stops the process before it claims a message
rather than failing every send.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tripcast.exceptions import EXIT_CONFIG, TripcastError

ENV_PREFIX = "TRIPCAST_"
_API_VERSION = re.compile(r"v[0-9]+\.[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
# Visible ASCII only: what a bearer token or an HTTP header value may safely hold.
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_STRAY_CHARACTERS = "must not contain spaces, newlines or control characters (pasted with one?)"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


class ConfigError(TripcastError):
    """A setting is missing or invalid; the message names the environment variable."""

    exit_code = EXIT_CONFIG


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", validate_default=True
    )

    database_url: SecretStr | None = Field(
        default=None, description="Postgres URL; unset means the embedded server"
    )
    home: Path = Field(default=Path(".tripcast"), description="local state directory")
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v23.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # The template catalog (tripcast.templates): the account whose templates are listed,
    # and the language a template message falls back to when its own is not approved.
    whatsapp_business_account_id: str | None = None
    default_template_language: str | None = None
    send_rate: float = Field(default=80.0, gt=0, le=10_000)
    # Beyond the contract: the share of send_rate left unused against jitter.
    send_rate_margin: float = Field(default=0.04, ge=0, le=0.5)
    # Beyond the contract: the send_email action's SMTP server and sender.
    smtp_url: SecretStr | None = Field(default=None, description="smtp://[user:pass@]host:port")
    email_from: str = "tripcast@localhost"
    # /metrics, /healthz and /readyz of `tripcast serve` and `tripcast dispatch --follow`;
    # 0 serves none. Beyond the contract: the interface they listen on.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    metrics_host: str = Field(default="0.0.0.0", min_length=1)
    # Beyond the contract: the rate card (CSV) the daily cost report prices messages from.
    costs_rate_card: Path | None = None
    # Beyond the contract: show the typing indicator with the read receipt of a message
    # being answered (tripcast.conversations).
    whatsapp_typing_indicator: bool = True

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        # Never echo the URL: it usually carries a password.
        _refuse_stray_characters(value.get_secret_value(), spaces_inside=True)
        if not value.get_secret_value().startswith(_POSTGRES_SCHEMES):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        _refuse_stray_characters(value.get_secret_value(), spaces_inside=True)
        if not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @field_validator("whatsapp_access_token")
    @classmethod
    def _bearer_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # blank: not set, which the commands that need it say
        _refuse_stray_characters(value.get_secret_value())
        if not _VISIBLE_ASCII.fullmatch(value.get_secret_value()):
            raise ValueError("must be plain ASCII, as Meta issues access tokens")
        return value

    @field_validator("whatsapp_app_secret", "whatsapp_verify_token")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # blank: not set, which the commands that need it say
        _refuse_stray_characters(value.get_secret_value())
        return value

    @field_validator("whatsapp_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        _refuse_stray_characters(value)
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - parsing the port validates it
        except ValueError:
            raise ValueError("is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must start with http:// or https:// and name a host")
        if parts.query or parts.fragment or parts.username is not None:
            raise ValueError("must be a base URL without credentials, query or fragment")
        return value.rstrip("/")

    @field_validator("whatsapp_api_version")
    @classmethod
    def _graph_version(cls, value: str) -> str:
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must look like v23.0")
        return value

    @field_validator("whatsapp_phone_number_id")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is not None and not _DIGITS.fullmatch(value):
            raise ValueError("must be the numeric phone number id from WhatsApp Manager")
        return value

    @field_validator("email_from")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        # It becomes the From header: a newline would inject headers into every email.
        if _CONTROL.search(value.strip()) or "@" not in parseaddr(value)[1]:
            raise ValueError("must be one email address, such as Trips <trips@example.com>")
        return value.strip()

    @field_validator("whatsapp_business_account_id")
    @classmethod
    def _waba_digits(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not _DIGITS.fullmatch(value):
            raise ValueError("must be the numeric WhatsApp Business Account id")
        return value

    @field_validator("default_template_language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not _LANGUAGE.match(value):
            raise ValueError("must be a template language code like en, en_US or pt_BR")
        return value

    def require(self, *names: str) -> None:
        """Fail with one clear line when a setting a command needs is unset."""
        for name in names:
            if getattr(self, name) in (None, ""):
                raise ConfigError(f"{ENV_PREFIX}{name.upper()} is not set (required here)")


def _refuse_stray_characters(value: str, *, spaces_inside: bool = False) -> None:
    """Refuse whitespace and control characters; ``spaces_inside`` keeps inner spaces
    (a libpq URL may carry ``options=-c ...``), never a leading or trailing one."""
    stray = _CONTROL if spaces_inside else _SPACE_OR_CONTROL
    if stray.search(value) or value != value.strip():
        raise ValueError(_STRAY_CHARACTERS)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    message = first["msg"].removeprefix("Value error, ")
    return f"{ENV_PREFIX}{field.upper()} is invalid: {message}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
