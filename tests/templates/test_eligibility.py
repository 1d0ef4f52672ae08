"""``rules.judge``: whether a template message may go, from the catalog alone."""

from __future__ import annotations

import pytest

from tripcast.templates.eligibility import CatalogEntry, Verdict, expected_parameters, judge
from tripcast.whatsapp.messages import TemplateMessage

BODY_2 = [{"type": "BODY", "text": "Hi {{1}}, {{2}} awaits. {{1}}!"}]


def entry(
    language: str = "en_US",
    status: str = "APPROVED",
    *,
    category: str = "UTILITY",
    components: list[dict[str, str]] = BODY_2,
) -> CatalogEntry:
    return CatalogEntry("trip_reminder", language, status, category, components)


def message(language: str = "en_US", body: tuple[str, ...] = ("Ana", "Porto")) -> TemplateMessage:
    return TemplateMessage.build("trip_reminder", language, body=body)


def verdict(
    msg: TemplateMessage,
    *entries: CatalogEntry,
    marketing: bool = False,
    default_language: str | None = None,
) -> Verdict:
    return judge(
        msg,
        list(entries),
        catalog_empty=False,
        marketing_allowed=marketing,
        default_language=default_language,
    )


def test_an_empty_catalog_lets_everything_go() -> None:
    assert judge(message(), [], catalog_empty=True, marketing_allowed=False).action == "send"


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    [
        ("APPROVED", "send", None),
        ("PAUSED", "wait", 'template "trip_reminder" (en_US) is PAUSED'),
        ("DISABLED", "fail", 'template "trip_reminder" (en_US) is DISABLED'),
        ("REJECTED", "fail", 'template "trip_reminder" (en_US) is REJECTED'),
        ("PENDING", "fail", 'template "trip_reminder" (en_US) is PENDING'),
    ],
)
def test_status_decides(status: str, action: str, reason: str | None) -> None:
    result = verdict(message(), entry(status=status))
    assert (result.action, result.reason) == (action, reason)


def test_unknown_to_a_synced_catalog_fails_naming_it() -> None:
    result = verdict(message())
    assert result.action == "fail"
    assert result.reason == 'template "trip_reminder" (en_US) is not in the template catalog'


def test_parameter_count_mismatch_fails_naming_the_template() -> None:
    result = verdict(message(body=("Ana",)), entry())
    assert result.action == "fail"
    assert result.reason == (
        'template "trip_reminder" (en_US) takes 2 body parameters, the message has 1'
    )


def test_header_placeholders_and_media_headers_count() -> None:
    text_header = [{"type": "HEADER", "format": "TEXT", "text": "{{1}}"}, *BODY_2]
    assert expected_parameters(text_header) == {"header": 1, "body": 2}
    image = [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "no params"}]
    assert expected_parameters(image) == {"header": 1, "body": 0}
    named = [{"type": "BODY", "text": "Hi {{first_name}} in {{ city }}"}]
    assert expected_parameters(named) == {"body": 2}
    result = verdict(message(), entry(components=text_header))
    assert result.reason == (
        'template "trip_reminder" (en_US) takes 1 header parameters, the message has 0'
    )


def test_components_unknown_skip_the_count() -> None:
    assert verdict(message(body=("x",)), entry(components=[])).action == "send"


def test_language_fallback_same_base_then_default() -> None:
    same_base = verdict(message("en_US"), entry("en_GB"), entry("pt_PT"))
    assert (same_base.action, same_base.language) == ("send", "en_GB")
    default = verdict(message("de"), entry("pt_PT"), entry("en_GB"), default_language="en_GB")
    assert (default.action, default.language) == ("send", "en_GB")
    none = verdict(message("de"), entry("pt_PT"))
    assert none.action == "fail"
    assert none.reason == 'template "trip_reminder" (de) is not in de or a fallback'
    # A fallback is only ever an approved translation.
    assert verdict(message("en_US"), entry("en_GB", status="PAUSED")).action == "fail"


def test_marketing_category_needs_marketing_consent() -> None:
    marketing = entry(category="MARKETING")
    result = verdict(message(), marketing, marketing=False)
    assert (result.action, result.reason) == ("cancel", "cancelled: marketing not allowed")
    assert verdict(message(), marketing, marketing=True).action == "send"
