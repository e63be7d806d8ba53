"""The bot's own catalog domain ("bot"): notification texts and channel-edge answers (STOP, help)."""

from __future__ import annotations

from conversations.i18n import DEFAULT_LOCALE, Translator, translator

DOMAIN = "bot"


def tr(locale: str | None = DEFAULT_LOCALE) -> Translator:
    return translator(DOMAIN, locale)


def _(message: str, locale: str | None = DEFAULT_LOCALE) -> str:
    """Translate a bot msgid (extracted by Babel through the `_` keyword)."""
    return tr(locale).gettext(message)
