"""Wiring the channels for api.app and the CLI: which routers to mount, which senders the dispatcher gets."""

from __future__ import annotations

from fastapi import FastAPI

from bot import sms, telegram, wechat
from bot.context import BotContext
from bot.dispatcher import Dispatcher, Fallback, Sender
from bot.web import web_router


def telegram_ready(ctx: BotContext) -> bool:
    return bool(ctx.settings.telegram_bot_token)


def mount(app: FastAPI, ctx: BotContext) -> list[str]:
    """Include the router of every configured channel; an unconfigured channel stays 404. Returns names."""
    s = ctx.settings
    mounted = []
    if s.telegram_bot_token and s.telegram_secret_token:
        app.include_router(telegram.telegram_router(ctx))
        mounted.append("telegram")
    if s.wechat_token:
        app.include_router(wechat.wechat_router(ctx))
        mounted.append("wechat")
    if s.twilio_auth_token:
        app.include_router(sms.sms_router(ctx))
        mounted.append("sms")
    if s.web_simulator:
        app.include_router(web_router(ctx))
        mounted.append("web")
    return mounted


def senders(ctx: BotContext) -> list[Sender]:
    """A Sender for every channel whose outbound settings are present (web rows are taken by the page)."""
    out: list[Sender] = []
    if telegram_ready(ctx):
        out.append(telegram.TelegramSender(telegram.make_bot(ctx)))
    w = wechat.make_sender(ctx)
    if w is not None:
        out.append(w)
    s = sms.make_sender(ctx)
    if s is not None:
        out.append(s)
    return out


def dispatcher(ctx: BotContext, *, fallback: Fallback | None = None) -> Dispatcher:
    return Dispatcher(sessions=ctx.sessions, senders=senders(ctx), clock=ctx.clock, fallback=fallback)
