"""Properties of the receiver and the ingest, whatever a signed body holds."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, message_row, rows, store_delivery
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_ids = itertools.count()

# Leaves a hostile body may hold: out-of-range numbers, odd text, other types.
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**15, max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "\u0000", "\\u0000", "a\\\u0000b", "99999999999999999999", "-1", "1e9"]),
    st.text(st.characters(codec="utf-8"), min_size=3000, max_size=3000),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Raw JSON fragments the encoder would never write but a client may send.
fragments = st.sampled_from(
    ["1e999999", "-1e999999", '"\\ud800"', '"\\udc00x"', '"\\u0000"', "[[[[[[[[1]]]]]]]]"]
)


def mutate(data: Any, path: list[Any], replacement: Any) -> Any:
    """``data`` with the node at ``path`` (as far as it exists) replaced."""
    if not path or not isinstance(data, dict | list):
        return replacement
    key, rest = path[0], path[1:]
    if isinstance(data, dict):
        key = key if key in data else next(iter(data), key)
        return {**data, key: mutate(data.get(key), rest, replacement)}
    if not data:
        return [replacement]
    index = key % len(data) if isinstance(key, int) else 0
    return [*data[:index], mutate(data[index], rest, replacement), *data[index + 1 :]]


def genuine() -> dict[str, Any]:
    failed = meta.status(meta.new_wamid(), "failed", T0, errors=[meta.meta_error()])
    return meta.payload(
        statuses=[meta.status(meta.new_wamid(), "delivered", T0), failed],
        messages=[meta.text_message("351912345678", "hi", T0)],
    )


SAFE_SPOT = ["entry", 0, "changes", 0, "value", "statuses", 0, "pricing"]
paths = st.lists(
    st.one_of(
        st.sampled_from(["entry", "changes", "value", "statuses", "messages", "errors", "code",
                         "timestamp", "id", "status", "from", "text", "body", "metadata",
                         "field", "object", "contacts"]),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=9,
)  # fmt: skip


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "mutated", "fragment"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "mutated":
        return json.dumps(mutate(genuine(), draw(paths), draw(values))).encode()
    # Where the envelope stays valid (so the body reaches the database), or anywhere.
    at = draw(st.sampled_from([SAFE_SPOT, []])) or draw(paths)
    return json.dumps(mutate(genuine(), at, "@@@")).replace('"@@@"', draw(fragments)).encode()


@PROPERTY
@given(body=bodies())
def test_any_signed_body_is_answered_2xx_or_4xx(
    receiver: BackgroundReceiver, http: httpx.Client, body: bytes
) -> None:
    answer = post(http, receiver.url, body)
    assert 200 <= answer.status_code < 500, (answer.status_code, answer.text, body[:300])


@PROPERTY
@given(others=st.lists(st.tuples(st.sampled_from(["statuses", "messages"]), paths, values),
                       min_size=1, max_size=4))  # fmt: skip
def test_the_valid_items_of_a_delivery_are_applied_whatever_the_others_hold(
    engine: Engine, others: list[tuple[str, list[Any], Any]]
) -> None:
    n = next(_ids)
    with engine.begin() as connection:
        ana = make_traveller(connection)
        wamid = f"wamid.good.{n}"
        sent = make_outbound(connection, ana, wamid=wamid)
        good_status = meta.status(wamid, "delivered", T0)
        good_text = meta.text_message(ana.phone, f"good {n}", T0)
        data = meta.payload(statuses=[good_status], messages=[good_text])
        value = data["entry"][0]["changes"][0]["value"]
        for key, path, replacement in others:
            template = genuine()["entry"][0]["changes"][0]["value"][key][0]
            value[key].insert(0, _without_nul(mutate(template, path, replacement)))
        store_delivery(connection, data)
    report = drain(engine, now=T0)
    assert report.failed == 0
    assert message_row(engine, sent)["status"] == "delivered"
    stored = rows(
        engine, "SELECT 1 FROM whatsapp_messages WHERE external_id = %(w)s", w=good_text["id"]
    )
    assert len(stored) == 1


def _without_nul(data: Any) -> Any:
    # jsonb never holds NUL: the receiver replaces it before storing (test_text_verbatim).
    return json.loads(json.dumps(data).replace("\\u0000", "\\ufffd"))
