"""`shenbao chat`: the household dialogue in a terminal, over the same service as every channel."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from bot import outbox
from bot.context import BotContext, pending_for
from bot.smstext import with_choices
from cases.models import Channel
from conversations.messages import InboundMessage

CHANNEL = Channel.CONSOLE.value


def chat(ctx: BotContext, *, read: Callable[[str], str] = input, write: Callable[[str], None] = print,
         user_key: str | None = None) -> int:
    """Read lines until EOF or 'quit'; print every reply (and notifications) as a chat would show them."""
    key = user_key or f"console-{secrets.token_hex(4)}"
    write("申报 · 终端对话（输入 quit 退出）")
    count = 0
    while True:
        try:
            line = read("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if line.strip().lower() in ("quit", "exit"):
            break
        count += 1
        msg = InboundMessage(channel=CHANNEL, user_key=key, external_id=f"c{count}-{secrets.token_hex(3)}",
                             text=line, received_at=ctx.now())
        with ctx.sessions() as db:
            handled = ctx.handle(db, msg, inline=True)
            ids = list(handled.outbox_ids) + [r.id for r in pending_for(db, channel=CHANNEL, user_key=key)
                                             if r.id not in handled.outbox_ids]
            for row in outbox.claim_inline(db, ids, now=ctx.now()):
                write(with_choices(row.body, list((row.extra or {}).get("choices") or [])))
    return 0
