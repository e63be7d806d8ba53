"""Jinja2 templates of the console, translated through the Babel domain `api` (zh_CN by default)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.console.auth import Viewer
from api.console.labels import (
    ACTION_LABELS,
    ATTACHMENT_LABELS,
    CHANNEL_LABELS,
    DELIVERY_LABELS,
    EVENT_LABELS,
    MEMBER_DETAIL_LABELS,
    OTHER_LABELS,
    REPORTER_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TASK_LABELS,
    actor,
    added,
    items,
    label,
    notice,
    size,
)
from cases import reminders
from cases.crypto import mask_text
from conversations.i18n import SOURCES, Translator, translator

TEMPLATES = Path(__file__).parent / "templates"
METHOD_MAP = SOURCES  # the console's catalog: its Python and its Jinja templates


def _environment(t: Translator) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(t.gettext, t.ngettext, newstyle=False)  # type: ignore[attr-defined]

    def dt(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
        return t.format_datetime(value, fmt) if value else ""

    def d(value: date | datetime | None) -> str:
        return t.format_date(value, "yyyy-MM-dd") if value else ""

    def money(value: Decimal | float | int | None) -> str:
        return t.format_money(value) if value is not None else ""

    def amounts(parsed: Mapping[str, Any] | None) -> list[str]:
        """A parse's amounts as read: 约 before one the household gave as a range or a rough figure."""
        values, rough = (parsed or {}).get("amounts") or [], (parsed or {}).get("amounts_approximate") or []
        return [
            t.gettext("about {amount}").format(amount=money(v)) if i < len(rough) and rough[i] else money(v)
            for i, v in enumerate(values)
        ]

    env.filters.update(dt=dt, d=d, money=money, masked=mask_text)
    env.globals.update(amounts=amounts)
    env.globals.update(
        status_label=lambda s: label(t, STATUS_LABELS, str(s)),
        task_label=lambda k: label(t, TASK_LABELS, str(k)),
        action_label=lambda a: label(t, ACTION_LABELS, str(a)),
        role_label=lambda r: label(t, ROLE_LABELS, str(r)),
        event_label=lambda e: label(t, EVENT_LABELS, str(e)),
        event_added=lambda data: added(t, data),
        event_items=lambda data: items(t, data),
        channel_label=lambda c: label(t, CHANNEL_LABELS, str(c)),
        reporter_label=lambda k: label(t, REPORTER_LABELS, str(k)),
        word=lambda w: label(t, OTHER_LABELS, str(w)),
        notice_label=lambda e: notice(t, e),
        delivery_label=lambda s: label(t, DELIVERY_LABELS, str(s)),
        attachment_label=lambda k: label(t, ATTACHMENT_LABELS, str(k)),
        detail_label=lambda c: label(t, MEMBER_DETAIL_LABELS, str(c)),
        size_label=size,
        actor=lambda a: actor(t, str(a)),
        urgency=reminders.urgency,
        colour=reminders.colour,
    )
    return env


_ENVS: dict[str, Environment] = {}


def environment(locale: str = "zh_CN") -> Environment:
    t = translator("api", locale)
    if t.locale not in _ENVS:
        _ENVS[t.locale] = _environment(t)
    return _ENVS[t.locale]


def page(
    request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a full page (base.html supplies the navigation for the viewer's role)."""
    settings = request.app.state.settings
    env = environment(settings.locale)
    html = env.get_template(name).render(
        request=request, viewer=viewer, csrf=viewer.csrf if viewer else "", **context
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return response


def t_(request: Request) -> Translator:
    return translator("api", request.app.state.settings.locale)
