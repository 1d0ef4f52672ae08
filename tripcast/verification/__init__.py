"""Phone verification: a one-time code sent over WhatsApp proves a traveller owns a number.

Public API (no Prefect import here; the tasks live in ``tripcast.tasks.verification``)::

    sent = start_verification(engine, user_id, "+351 912 345 678", now=now)
    verified = confirm_verification(engine, user_id, "123456", now=now)

Both raise a ``VerificationError`` subclass (``.code`` is stable, ``str()`` one line):
``InvalidPhone``, ``UnknownUser``, ``PhoneNumberTaken``, ``AlreadyVerified``,
``ResendThrottled``, ``NoPendingCode``, ``MalformedCode``, ``CodeExpired``,
``WrongCode``, ``AttemptsExhausted``. Limits are in ``VerificationPolicy``.
"""

from tripcast.verification.policy import DEFAULT_POLICY, VerificationPolicy
from tripcast.verification.refusals import (
    AlreadyVerified,
    AttemptsExhausted,
    CodeExpired,
    InvalidPhone,
    MalformedCode,
    NoPendingCode,
    PhoneNumberTaken,
    ResendThrottled,
    UnknownUser,
    VerificationError,
    WrongCode,
)
from tripcast.verification.service import (
    CodeSent,
    PhoneVerified,
    confirm_verification,
    start_verification,
)

__all__ = [
    "DEFAULT_POLICY",
    "AlreadyVerified",
    "AttemptsExhausted",
    "CodeExpired",
    "CodeSent",
    "InvalidPhone",
    "MalformedCode",
    "NoPendingCode",
    "PhoneNumberTaken",
    "PhoneVerified",
    "ResendThrottled",
    "UnknownUser",
    "VerificationError",
    "VerificationPolicy",
    "WrongCode",
    "confirm_verification",
    "start_verification",
]
