"""The template catalog's settings: validated at start-up, one line naming the variable."""

from __future__ import annotations

import pytest

from tripcast.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", "waba-1"),
        ("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", "20000 0001"),
        ("TRIPCAST_DEFAULT_TEMPLATE_LANGUAGE", "English"),
        ("TRIPCAST_DEFAULT_TEMPLATE_LANGUAGE", "en-us"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=rf"^{variable} is invalid: "):
        load_settings()


def test_valid_values_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", "200000000000001")
    monkeypatch.setenv("TRIPCAST_DEFAULT_TEMPLATE_LANGUAGE", "pt_BR")
    settings = load_settings()
    assert settings.whatsapp_business_account_id == "200000000000001"
    assert settings.default_template_language == "pt_BR"


def test_unset_account_id_is_named_where_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", raising=False)
    with pytest.raises(ConfigError, match=r"^TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID is not set"):
        load_settings().require("whatsapp_business_account_id")
