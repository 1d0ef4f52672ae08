"""``GET /{version}/{waba_id}/message_templates``: the business account's templates, paged.

The typed façade over the listing, in the request layer's style: one ``httpx``
client carrying the bearer token (so pytest-httpx can stub it), Meta's error answers
and network failures mapped to the same ``WhatsAppError`` families as sends.
Meta pages with ``paging.cursors.after``; ``paging.next`` is present while more follow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tripcast.whatsapp.api_errors import MalformedResponseError
from tripcast.whatsapp.client import DEFAULT_API_VERSION, DEFAULT_BASE_URL
from tripcast.whatsapp.reader import GraphReader, parse_body
from tripcast.whatsapp.transport import TransportChoice

FIELDS = "name,language,status,category,components,id,quality_score"
PAGE_LIMIT = 100
MAX_PAGES = 1000  # a cursor that never ends is Meta's bug, not a reason to loop forever


class QualityScore(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    score: str | None = None


class ListedTemplate(BaseModel):
    """One entry of ``data[]``: a template in one language."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = None
    name: str = Field(min_length=1)
    language: str = Field(min_length=2)
    status: str = Field(min_length=1)
    category: str | None = None
    components: list[dict[str, Any]] = Field(default_factory=list)
    quality_score: QualityScore | None = None

    @property
    def quality(self) -> str | None:
        return self.quality_score.score if self.quality_score else None


class _Cursors(BaseModel):
    model_config = ConfigDict(extra="ignore")

    after: str | None = None


class _Paging(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cursors: _Cursors | None = None
    next: str | None = None


class TemplatesPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: list[ListedTemplate]
    paging: _Paging | None = None

    @property
    def after(self) -> str | None:
        """The cursor of the next page, or None when this is the last one."""
        if self.paging is None or not self.paging.next or self.paging.cursors is None:
            return None
        return self.paging.cursors.after


class TemplatesClient(GraphReader):
    """Lists a WhatsApp Business Account's templates; an async context manager."""

    def __init__(
        self,
        *,
        waba_id: str,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        transport: TransportChoice = None,
    ) -> None:
        if not waba_id.isdigit():
            raise ValueError("waba_id must be the numeric WhatsApp Business Account id")
        super().__init__(access_token=access_token, timeout=timeout, transport=transport)
        self.url = f"{base_url.rstrip('/')}/{api_version}/{waba_id}/message_templates"

    def __repr__(self) -> str:
        return f"TemplatesClient(url={self.url!r})"  # never the token

    async def page(self, after: str | None = None, *, limit: int = PAGE_LIMIT) -> TemplatesPage:
        """One page; raises the ``WhatsAppError`` family of Meta's refusal."""
        params = {"fields": FIELDS, "limit": str(limit)}
        if after is not None:
            params["after"] = after
        response = await self._get(self.url, params=params)
        return parse_body(TemplatesPage, response, what="a template listing")

    async def iter_templates(self, *, limit: int = PAGE_LIMIT) -> AsyncIterator[ListedTemplate]:
        """Every template of the account, following the ``after`` cursor page by page."""
        after: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.page(after, limit=limit)
            for template in page.data:
                yield template
            after = page.after
            if after is None:
                return
        raise MalformedResponseError(f"template listing did not end after {MAX_PAGES} pages")
