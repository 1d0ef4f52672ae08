"""Consent: opt-out / opt-in keywords in inbound messages, and who may be messaged.

``classify_inbound`` looks at the *whole* message, not words inside it: after folding
case and accents, turning punctuation, symbols and emoji into blanks and collapsing
blanks, the text must equal one of the phrases below. So ``"Stop."``, ``" STOP!! "``,
``"stop 🙏"``, ``"Opt-out"`` and ``"ARRÊTER"`` are stops, while ``"please stop by the
hotel"``, ``"don't stop"`` and ``"stop please"`` are not (they are ordinary messages).

Stop phrases (English plus the product's common languages):
  stop, stopall, stop all, unsubscribe, cancel, end, quit, optout, opt out, revoke;
  pt: pare, parar, sair, cancelar, descadastrar; es: baja, detener, cancelar;
  fr: arret, arreter, desabonner, desinscrire; de: stopp, abmelden, abbestellen;
  it: basta, disiscriviti; nl: afmelden.
Start phrases: start, unstop, subscribe, yes, optin, opt in.

The lists are deliberately asymmetric: honouring a stop in any common wording is cheap
and always right, while opting back in must be explicit, so only the English keywords
WhatsApp senders conventionally document count (a bare "sim" or "oui" is far more often
an answer to something else).

An opt-in keyword matters only for an opted-out traveller; applying it to anyone else
changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

InboundIntent = Literal["stop", "start"]

STOP_PHRASES: frozenset[str] = frozenset(
    {
        "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout",
        "opt out", "revoke", "pare", "parar", "sair", "cancelar", "descadastrar", "baja",
        "detener", "arret", "arreter", "desabonner", "desinscrire", "stopp", "abmelden",
        "abbestellen", "basta", "disiscriviti", "afmelden",
    }
)  # fmt: skip
START_PHRASES: frozenset[str] = frozenset(
    {
        "start", "unstop", "subscribe", "yes", "optin", "opt in",
    }
)  # fmt: skip

_MAX_KEYWORD_LENGTH = 64
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_keyword(text: str) -> str:
    """Fold case, accents and punctuation to single blanks: ``"Opt-Out!"`` → ``"opt out"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", bare.casefold()).strip()


def classify_inbound(text: str | None) -> InboundIntent | None:
    """``"stop"`` for an opt-out keyword, ``"start"`` for an opt-in keyword, else ``None``."""
    if not text or len(text) > _MAX_KEYWORD_LENGTH:
        return None
    phrase = normalise_keyword(text)
    if phrase in STOP_PHRASES:
        return "stop"
    if phrase in START_PHRASES:
        return "start"
    return None


def account_skip_reason(account: Mapping[str, object] | None) -> str | None:
    """Why a traveller's ``whatsapp_accounts`` row may not receive messages, or ``None``.

    ``no_whatsapp_account``, ``account_not_verified``, ``opted_out`` or ``not_opted_in``
    (status still ``pending``); only a verified, ``opted_in`` account passes.
    """
    if account is None:
        return "no_whatsapp_account"
    if account.get("is_verified") is not True:
        return "account_not_verified"
    status = account.get("opt_in_status")
    if status == "opted_out":
        return "opted_out"
    if status != "opted_in":
        return "not_opted_in"
    return None
