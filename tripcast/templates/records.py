"""The template catalog's rows: the listing upserted, entries loaded for the gate, status,
quality and category changes from webhooks; each one statement over a connection."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import col, select

from tripcast.models.engine import typed_rows
from tripcast.models.templates import DELETED, WhatsAppTemplate, WhatsAppTemplateCreate
from tripcast.templates.eligibility import CatalogEntry

# Every listed template, inserted or brought up to date; updated_at moves only when
# something Meta reports changed, so "changed" is what the statement really changed.
UPSERT = """
INSERT INTO public.whatsapp_templates AS t
  (name, language, category, status, quality, components, waba_id, meta_template_id,
   status_reason, updated_at)
SELECT r.name, r.language, r.category, r.status, r.quality,
       coalesce(r.components, '[]'::jsonb), r.waba_id, r.meta_template_id, NULL, %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
  name text, language text, category text, status text, quality text, components jsonb,
  waba_id text, meta_template_id text)
ON CONFLICT (name, language) DO UPDATE
SET category = excluded.category, status = excluded.status, quality = excluded.quality,
    components = excluded.components, waba_id = excluded.waba_id,
    meta_template_id = excluded.meta_template_id,
    status_reason = CASE WHEN t.status = excluded.status THEN t.status_reason END,
    updated_at = excluded.updated_at
WHERE (t.category, t.status, t.quality, t.components, t.waba_id, t.meta_template_id)
  IS DISTINCT FROM (excluded.category, excluded.status, excluded.quality,
                    excluded.components, excluded.waba_id, excluded.meta_template_id)
RETURNING (xmax = 0) AS inserted
"""

# Templates of this account the listing no longer has: kept, marked DELETED, so that
# messages naming them fail with a reason instead of reaching Meta.
MARK_GONE = """
UPDATE public.whatsapp_templates
SET status = %(deleted)s, status_reason = 'no longer listed by the Cloud API',
    updated_at = %(now)s
WHERE (waba_id = %(waba_id)s OR waba_id IS NULL) AND status <> %(deleted)s
  AND (name, language) NOT IN (
    SELECT r.name, r.language FROM jsonb_to_recordset(%(rows)s::jsonb)
      AS r(name text, language text))
"""

CATALOG_EMPTY = "SELECT NOT EXISTS (SELECT FROM public.whatsapp_templates)"


@dataclass(frozen=True)
class SyncCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, {self.gone} gone"
        )


def _row(template: WhatsAppTemplateCreate) -> dict[str, Any]:
    return template.model_dump(exclude={"status_reason"})


def upsert_listing(
    connection: Connection,
    templates: Sequence[WhatsAppTemplateCreate],
    *,
    waba_id: str,
    now: datetime,
) -> SyncCounts:
    """Bring the catalog in line with a complete listing of ``waba_id``'s templates."""
    unique = {(t.name, t.language): t for t in templates}  # a listing repeating itself
    rows = json.dumps([_row(t) for t in unique.values()])
    written = connection.exec_driver_sql(UPSERT, {"rows": rows, "now": now}).all()
    new = sum(1 for (inserted,) in written if inserted)
    gone = connection.exec_driver_sql(
        MARK_GONE, {"rows": rows, "now": now, "waba_id": waba_id, "deleted": DELETED}
    ).rowcount
    return SyncCounts(
        new=new, changed=len(written) - new, unchanged=len(unique) - len(written), gone=gone
    )


def load_entries(connection: Connection, names: Iterable[str]) -> dict[str, list[CatalogEntry]]:
    """The catalog's rows of these template names, by name."""
    statement = select(WhatsAppTemplate).where(col(WhatsAppTemplate.name).in_(sorted(set(names))))
    found: dict[str, list[CatalogEntry]] = {}
    for row in typed_rows(connection, statement):
        entry = CatalogEntry(row.name, row.language, row.status, row.category, row.components or ())
        found.setdefault(row.name, []).append(entry)
    return found


def catalog_empty(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql(CATALOG_EMPTY).scalar())


# A status learned from a webhook or a send error. A template the catalog does not
# know yet is added (its components come with the next sync).
SET_STATUS = """
INSERT INTO public.whatsapp_templates AS t
  (name, language, status, status_reason, meta_template_id, waba_id, updated_at)
VALUES (%(name)s, %(language)s, %(status)s, %(reason)s, %(meta_id)s, %(waba_id)s, %(now)s)
ON CONFLICT (name, language) DO UPDATE
SET status = excluded.status, status_reason = excluded.status_reason,
    meta_template_id = coalesce(excluded.meta_template_id, t.meta_template_id),
    updated_at = excluded.updated_at
WHERE (t.status, t.status_reason) IS DISTINCT FROM (excluded.status, excluded.status_reason)
"""


def set_status(
    connection: Connection,
    *,
    name: str,
    language: str,
    status: str,
    reason: str | None,
    now: datetime,
    meta_template_id: str | None = None,
    waba_id: str | None = None,
) -> int:
    params = {
        "name": name,
        "language": language,
        "status": status,
        "reason": reason,
        "meta_id": meta_template_id,
        "waba_id": waba_id,
        "now": now,
    }
    return connection.exec_driver_sql(SET_STATUS, params).rowcount


# Quality and category from webhooks: only for templates the catalog knows (a new
# template arrives with its status event or the next sync).
SET_QUALITY = """
UPDATE public.whatsapp_templates SET quality = upper(%(quality)s), updated_at = %(now)s
WHERE name = %(name)s AND language = %(language)s
  AND quality IS DISTINCT FROM upper(%(quality)s)
"""
SET_CATEGORY = """
UPDATE public.whatsapp_templates SET category = upper(%(category)s), updated_at = %(now)s
WHERE name = %(name)s AND language = %(language)s
  AND category IS DISTINCT FROM upper(%(category)s)
"""


def set_quality(
    connection: Connection, *, name: str, language: str, quality: str, now: datetime
) -> int:
    params = {"name": name, "language": language, "quality": quality, "now": now}
    return connection.exec_driver_sql(SET_QUALITY, params).rowcount


def set_category(
    connection: Connection, *, name: str, language: str, category: str, now: datetime
) -> int:
    params = {"name": name, "language": language, "category": category, "now": now}
    return connection.exec_driver_sql(SET_CATEGORY, params).rowcount
