"""What crosses between the channel adapters and the dialogue service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # photo | voice | document | location
    content_type: str
    data: bytes | None = None  # inline bytes when the adapter already has them
    file_id: str | None = None  # channel reference to fetch later (Telegram file_id, WeChat MediaId)
    size: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. location lat/lon/label


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a household or cadre, as every adapter hands it over."""

    channel: str  # cases.models.Channel value
    user_key: str  # chat id, openid, E.164 phone, web session id
    external_id: str  # the channel's message id (update_id, MsgId, MessageSid, client uuid)
    text: str | None
    received_at: datetime
    attachments: tuple[Attachment, ...] = ()
    display_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # small, non-sensitive extras (event type ...)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back: text plus optional numbered choices (reply keyboards where supported)."""

    text: str
    choices: tuple[str, ...] = ()
