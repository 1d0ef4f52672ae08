"""The fake's rules, decided without HTTP: FakeState and its reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tripcast.whatsapp.fake import FakeCloudApiConfig, FakeTemplate, views
from tripcast.whatsapp.fake.state import Answer, FakeState

PNID = "100000000000001"
AUTH = "Bearer fake-access-token"
TRAVELLER = "351912345678"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state_with(clock: Monotonic | None = None, **changes: Any) -> FakeState:
    config = FakeCloudApiConfig.model_validate({"frozen_now": NOW} | changes)
    return FakeState(config, monotonic=clock or Monotonic())


def text(to: str = TRAVELLER, body: str = "hi", **extra: Any) -> bytes:
    payload = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}
    return json.dumps(payload | extra).encode()


def template(
    name: str = "trip_reminder", params: int = 2, language: str = "en_US", **extra: Any
) -> bytes:
    parameters = [{"type": "text", "text": str(i)} for i in range(params)]
    payload = {
        "messaging_product": "whatsapp",
        "to": TRAVELLER,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": parameters}],
        },
    }
    return json.dumps(payload | extra).encode()


def code_of(answer: Answer) -> int | None:
    return (
        None if answer.body is None or "error" not in answer.body else answer.body["error"]["code"]
    )


def test_accepted_send_answers_like_meta_and_is_recorded() -> None:
    state = state_with()
    answer = state.handle_send(PNID, AUTH, template(biz_opaque_callback_data="m-1"))
    assert answer.status == 200
    assert answer.body is not None
    assert answer.body["contacts"] == [{"input": TRAVELLER, "wa_id": TRAVELLER}]
    wamid = answer.body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert state.by_callback["m-1"] == 1
    assert state.by_wamid[wamid].recipient == TRAVELLER
    assert state.by_wamid[wamid].accepted_at == NOW


def test_plus_prefixed_recipient_is_echoed_as_input() -> None:
    answer = state_with().handle_send(
        PNID, AUTH, template().replace(TRAVELLER.encode(), b"+" + TRAVELLER.encode())
    )
    assert answer.body is not None
    assert answer.body["contacts"] == [{"input": "+" + TRAVELLER, "wa_id": TRAVELLER}]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "fake-access-token", "bearer fake-access-token"]
)
def test_wrong_token_is_190_with_http_401(authorization: str | None) -> None:
    answer = state_with().handle_send(PNID, authorization, template())
    assert (answer.status, code_of(answer)) == (401, 190)
    assert answer.body is not None
    assert answer.body["error"]["fbtrace_id"]


def test_unknown_phone_number_id_when_ids_are_configured() -> None:
    state = state_with(known_phone_number_ids=[PNID])
    unknown = state.handle_send("999", AUTH, template())
    assert code_of(unknown) == 100
    assert unknown.body is not None and unknown.body["error"]["error_subcode"] == 33
    assert state.handle_send(PNID, AUTH, template()).status == 200


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        (b"not json", 100, "JSON"),
        (b"[1]", 100, "object"),
        (text(messaging_product="sms"), 100, "messaging_product"),
        (text(to="abc"), 100, "to"),
        (text(to="12"), 100, "to"),
        (text(body=""), 100, "text['body']"),
        (text(body="x" * 4097), 100, "4096"),
        (text(biz_opaque_callback_data="x" * 513), 100, "biz_opaque_callback_data"),
        (text(type="image"), 131051, "image"),
        (text(type="fax"), 100, "type"),
        (template(name=""), 100, "name"),
        (template(language=""), 100, "language"),
    ],
)
def test_request_validation(raw: bytes, code: int, fragment: str) -> None:
    state = state_with(enforce_service_window=False)
    answer = state.handle_send(PNID, AUTH, raw)
    assert (answer.status, code_of(answer)) == (400, code)
    assert answer.body is not None
    assert fragment in answer.body["error"]["error_data"]["details"]
    assert state.accepted == []
    assert state.refusals[code] == 1


def test_sending_to_our_own_number_is_131021() -> None:
    state = state_with(display_phone_number=TRAVELLER)
    assert code_of(state.handle_send(PNID, AUTH, template())) == 131021


def test_free_text_needs_an_inbound_message_in_the_last_24_hours() -> None:
    state = state_with()
    assert code_of(state.handle_send(PNID, AUTH, text())) == 131047
    state.record_inbound(TRAVELLER)
    assert state.handle_send(PNID, AUTH, text()).status == 200
    state.config.frozen_now = NOW + timedelta(hours=23, minutes=59)
    state.config.pair_rate_window_seconds = None
    assert state.handle_send(PNID, AUTH, text()).status == 200
    state.config.frozen_now = NOW + timedelta(hours=24)
    assert code_of(state.handle_send(PNID, AUTH, text())) == 131047
    assert state.handle_send(PNID, AUTH, template()).status == 200  # templates always may go


def test_window_belongs_to_the_business_number_that_was_written_to() -> None:
    state = state_with()
    state.record_inbound(TRAVELLER, phone_number_id="other")
    assert code_of(state.handle_send(PNID, AUTH, text())) == 131047


def test_window_rule_can_be_lifted() -> None:
    assert state_with(enforce_service_window=False).handle_send(PNID, AUTH, text()).status == 200


def test_undeliverable_number_is_131026() -> None:
    state = state_with(undeliverable_numbers=[TRAVELLER])
    assert code_of(state.handle_send(PNID, AUTH, template())) == 131026


def test_failures_via_webhook_accept_first_like_meta() -> None:
    state = state_with(undeliverable_numbers=[TRAVELLER], failures_via_webhook=True)
    answer = state.handle_send(PNID, AUTH, template())
    assert answer.status == 200
    assert answer.accepted is not None
    assert answer.accepted.failure_code == 131026
    second = state_with(failures_via_webhook=True).handle_send(PNID, AUTH, text())
    assert second.accepted is not None
    assert second.accepted.failure_code == 131047


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (template(name="unknown"), 404, 132001),
        (template(language="fr_FR"), 404, 132001),
        (template(params=1), 400, 132000),
        (template(params=3), 400, 132000),
        (template(), 200, None),
    ],
)
def test_templates_must_be_approved_with_the_right_parameter_count(
    raw: bytes, status: int, code: int | None
) -> None:
    state = state_with(
        templates={"trip_reminder": FakeTemplate(body_parameters=2, languages=["en_US", "pt_PT"])}
    )
    answer = state.handle_send(PNID, AUTH, raw)
    assert (answer.status, code_of(answer)) == (status, code)


def test_throughput_limit_per_phone_number_id() -> None:
    clock = Monotonic()
    state = state_with(clock, throughput_per_second=3, pair_rate_window_seconds=None)
    answers = [state.handle_send(PNID, AUTH, template()) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 400]
    assert code_of(answers[3]) == 130429
    assert state.handle_send("other-id", AUTH, template()).status == 200
    clock.now += 0.99
    assert code_of(state.handle_send(PNID, AUTH, template())) == 130429
    clock.now += 0.02
    assert state.handle_send(PNID, AUTH, template()).status == 200


def test_pair_rate_limit_per_recipient() -> None:
    clock = Monotonic()
    state = state_with(clock, pair_rate_window_seconds=0.3)
    assert state.handle_send(PNID, AUTH, template()).status == 200
    assert code_of(state.handle_send(PNID, AUTH, template())) == 131056
    other = template().replace(TRAVELLER.encode(), b"351912345679")
    assert state.handle_send(PNID, AUTH, other).status == 200
    clock.now += 0.29
    assert code_of(state.handle_send(PNID, AUTH, template())) == 131056
    clock.now += 0.02
    assert state.handle_send(PNID, AUTH, template()).status == 200


def test_pair_rate_limit_can_be_disabled() -> None:
    state = state_with(pair_rate_window_seconds=None)
    assert [state.handle_send(PNID, AUTH, template()).status for _ in range(5)] == [200] * 5


def test_scripted_faults_come_first_and_in_order() -> None:
    state = state_with(pair_rate_window_seconds=None)
    state.script_faults(
        ["server_error", 131048, "bad_gateway", "timeout", "disconnect", "accept_then_disconnect"]
    )
    answers = [state.handle_send(PNID, AUTH, template()) for _ in range(7)]
    assert (answers[0].status, code_of(answers[0])) == (500, 131000)
    assert (answers[1].status, code_of(answers[1])) == (400, 131048)
    assert (answers[2].status, answers[2].body) == (502, None)
    assert [a.fault for a in answers[3:6]] == ["timeout", "disconnect", "accept_then_disconnect"]
    assert answers[3].accepted is None and answers[4].accepted is None
    assert answers[5].accepted is not None  # accepted, then the connection drops
    assert answers[6].status == 200 and answers[6].fault is None
    assert len(state.accepted) == 2
    assert views.summary(state)["faults"] == {
        "server_error": 1,
        "bad_gateway": 1,
        "timeout": 1,
        "disconnect": 1,
        "accept_then_disconnect": 1,
    }


def test_accept_then_disconnect_counts_only_when_the_send_was_accepted() -> None:
    state = state_with(pair_rate_window_seconds=None)
    state.script_faults(["accept_then_disconnect", "accept_then_disconnect"])
    refused = state.handle_send(PNID, AUTH, text(to="15550001111"))  # 131021: to ourselves
    accepted = state.handle_send(PNID, AUTH, template())
    assert refused.fault is None and accepted.fault == "accept_then_disconnect"
    assert state.faults == {"accept_then_disconnect": 1}


def fault_sequence(seed: int) -> list[str | None]:
    state = state_with(
        pair_rate_window_seconds=None,
        throughput_per_second=None,
        fault_seed=seed,
        server_error_rate=0.1,
        timeout_rate=0.1,
        disconnect_rate=0.1,
        accept_then_disconnect_rate=0.1,
    )
    answers = [state.handle_send(PNID, AUTH, template()) for _ in range(400)]
    return [a.fault or ("server_error" if a.status == 500 else None) for a in answers]


def test_random_faults_are_deterministic_per_seed_and_near_their_shares() -> None:
    first, again, other = fault_sequence(1), fault_sequence(1), fault_sequence(2)
    assert first == again
    assert first != other
    for fault in ("server_error", "timeout", "disconnect", "accept_then_disconnect"):
        assert 15 <= first.count(fault) <= 70, fault
    assert 160 <= first.count(None) <= 320


def test_reset_forgets_records_but_wamids_stay_unique() -> None:
    state = state_with()
    first = state.handle_send(PNID, AUTH, template(biz_opaque_callback_data="m"))
    state.reset()
    assert state.accepted == [] and state.by_callback == {}
    second = state.handle_send(PNID, AUTH, template(biz_opaque_callback_data="m"))
    assert first.body is not None and second.body is not None
    assert first.body["messages"][0]["id"] != second.body["messages"][0]["id"]


def test_reports_count_duplicates_and_rates() -> None:
    state = state_with(pair_rate_window_seconds=None, throughput_per_second=None)
    for data in ["a", "b", "a", "c", "a"]:
        state.handle_send(PNID, AUTH, template(biz_opaque_callback_data=data))
    assert views.duplicates(state) == {"a": 3}
    assert len(views.matching(state, callback_data="a")) == 3
    wamid = state.accepted[1].wamid
    assert [m.callback_data for m in views.matching(state, wamid=wamid)] == ["b"]
    assert views.matching(state, wamid="wamid.none") == []
    assert sum(count for _, count in views.histogram(state)) == 5
    assert views.histogram(state, phone_number_id="other") == []
    assert views.max_in_window(state) == 5
    summary = views.summary(state)
    assert (summary["accepted"], summary["duplicate_callback_data"]) == (5, 1)


def test_max_in_window_slides() -> None:
    state = state_with()
    for moment in [0.0, 0.5, 0.9, 1.2, 1.3, 2.5]:
        state.accepted.append(_accepted_at(moment))
    assert views.max_in_window(state, window_seconds=1.0) == 4  # 0.5, 0.9, 1.2, 1.3


def _accepted_at(epoch: float) -> Any:
    from tripcast.whatsapp.fake.state import AcceptedMessage

    return AcceptedMessage("w", PNID, TRAVELLER, "text", None, None, NOW, epoch)
