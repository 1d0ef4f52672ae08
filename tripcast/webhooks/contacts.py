"""The ``contacts[]`` of a messages webhook: profile names, and business-scoped user IDs.

Pure functions, no I/O. Since Meta's business-scoped user IDs, a contact carries
``user_id`` (the BSUID) and, for a traveller with a username, ``profile.username``; the
phone number (``wa_id``) may be missing. Each contact with a BSUID is an ``Identity``
for ``tripcast.webhooks.identity`` to learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tripcast.whatsapp.webhook import Contact


@dataclass(frozen=True, slots=True)
class Identity:
    """A traveller's business-scoped user ID, and the phone number and username with it."""

    bsuid: str
    wa_id: str | None
    username: str | None


def contact_names(contacts: Any, identities: list[Identity]) -> dict[str, str | None]:
    """Profile names by wa_id and by BSUID; each contact with a BSUID is an identity.

    A contact of another shape only costs its name.
    """
    names: dict[str, str | None] = {}
    for raw in contacts if isinstance(contacts, list) else []:
        try:
            contact = Contact.model_validate(raw)
        except ValidationError:
            continue
        name = contact.profile.name if contact.profile else None
        for key in (contact.wa_id, contact.user_id):
            if key:
                names[key] = name
        if contact.user_id:
            identities.append(Identity(contact.user_id, contact.wa_id, contact.username))
    return names
