"""The inbound spool: a webhook message the database could not take before its platform's deadline.

WeChat must be answered within 5 s and never with an error (W5); Twilio gives up at 15 s (S4). Past
`DEADLINE_SECONDS` those adapters answer "success" or an empty TwiML, and the platform will not send the
message again. If the database then fails the store (SQLite locked past its busy timeout, PostgreSQL
gone, the server stopped mid-way), the message would be lost. So before such an answer the adapter keeps
the message here: one file per message, encrypted with the vault's key (the text holds ID and phone
numbers, an SMS sender's address is a phone number), written atomically and fsynced, named by keyed
hashes only. The file is removed once the message is in the database: when the request's own work stores
it, or when `replay` hands it to the dialogue service again (the background jobs each round, and a
request from the same contact before its own message, so a contact's messages keep their order).
Storing is idempotent (the channel's message id is unique), so a file replayed twice changes nothing.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cases.clock import Clock
from cases.crypto import DecryptionError, Vault
from conversations.messages import Attachment, InboundMessage

log = logging.getLogger(__name__)

SUFFIX = ".msg"
UNREADABLE = "unreadable"  # files that cannot be decrypted or parsed: moved aside, kept, logged
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Held:
    """One spooled message's file: its name sorts by the time the message arrived."""

    path: Path
    contact: str  # keyed hash of (channel, user_key)
    message: str  # keyed hash of (channel, user_key, external_id)


def encode(msg: InboundMessage) -> str:
    """The message as JSON (attachment bytes in base64)."""
    return json.dumps(
        {
            "channel": msg.channel,
            "user_key": msg.user_key,
            "external_id": msg.external_id,
            "text": msg.text,
            "received_at": msg.received_at.isoformat(),
            "display_name": msg.display_name,
            "raw": msg.raw,
            "attachments": [
                {
                    "kind": a.kind,
                    "content_type": a.content_type,
                    "data": base64.b64encode(a.data).decode("ascii") if a.data is not None else None,
                    "file_id": a.file_id,
                    "size": a.size,
                    "meta": a.meta,
                }
                for a in msg.attachments
            ],
        },
        ensure_ascii=False,
    )


def decode(text: str) -> InboundMessage:
    """The message `encode` wrote; ValueError (or KeyError) on anything else."""
    doc: dict[str, Any] = json.loads(text)
    return InboundMessage(
        channel=str(doc["channel"]),
        user_key=str(doc["user_key"]),
        external_id=str(doc["external_id"]),
        text=doc["text"],
        received_at=datetime.fromisoformat(doc["received_at"]),
        display_name=doc.get("display_name"),
        raw=dict(doc.get("raw") or {}),
        attachments=tuple(
            Attachment(
                kind=str(a["kind"]),
                content_type=str(a["content_type"]),
                data=base64.b64decode(a["data"]) if a.get("data") is not None else None,
                file_id=a.get("file_id"),
                size=a.get("size"),
                meta=dict(a.get("meta") or {}),
            )
            for a in doc.get("attachments") or []
        ),
    )


class Spool:
    """Messages kept on disk until the database has them; safe across threads and processes."""

    def __init__(self, directory: Path, vault: Vault, clock: Clock) -> None:
        self.directory, self.vault, self.clock = directory, vault, clock
        self._lock = threading.Lock()
        self._held: dict[str, Held] = {}  # by message hash
        self._failures = 0
        self._next_try: datetime | None = None
        self.rescan()

    # --- names -----------------------------------------------------------------------------------

    def _contact(self, channel: str, user_key: str) -> str:
        return self.vault.lookup_hash(f"spool\x1f{channel}\x1f{user_key}")[:24]

    def _message(self, msg: InboundMessage) -> str:
        return self.vault.lookup_hash(f"spool\x1f{msg.channel}\x1f{msg.user_key}\x1f{msg.external_id}")[:24]

    @staticmethod
    def _parse_name(path: Path) -> Held | None:
        parts = path.name.removesuffix(SUFFIX).split("-")
        if not path.name.endswith(SUFFIX) or len(parts) != 3:
            return None
        return Held(path=path, contact=parts[1], message=parts[2])

    def rescan(self) -> None:
        """Index the files on disk (at start; other processes sharing the directory add files too)."""
        found: dict[str, Held] = {}
        if self.directory.is_dir():
            for entry in os.scandir(self.directory):
                held = self._parse_name(Path(entry.path))
                if held is not None and entry.is_file():
                    found[held.message] = held
        with self._lock:
            self._held = found

    # --- keeping and dropping --------------------------------------------------------------------

    def keep(self, msg: InboundMessage) -> Path:
        """Write the message durably (once: a second keep of the same message returns the first file)."""
        message = self._message(msg)
        with self._lock:
            held = self._held.get(message)
        if held is not None and held.path.exists():
            return held.path
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # only this service reads it
        stamp = msg.received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{self._contact(msg.channel, msg.user_key)}-{message}{SUFFIX}"
        tmp = self.directory / f".{uuid.uuid4().hex}.tmp"
        sealed = self.vault.encrypt(encode(msg)).encode("ascii")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, sealed)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        held = Held(path=path, contact=self._contact(msg.channel, msg.user_key), message=message)
        with self._lock:
            self._held[message] = held
        log.warning("inbound message spooled (the database did not take it in time): %s", path.name)
        return path

    def discard(self, msg: InboundMessage) -> None:
        """The database has the message: its file (if any) goes."""
        with self._lock:
            if not self._held:
                return
            held = self._held.pop(self._message(msg), None)
        if held is not None:
            held.path.unlink(missing_ok=True)

    def held(self, channel: str | None = None, user_key: str | None = None) -> list[Held]:
        """The files waiting, oldest first (one contact's when `channel` and `user_key` are given)."""
        with self._lock:
            if not self._held:
                return []
            items = list(self._held.values())
        if channel is not None and user_key is not None:
            contact = self._contact(channel, user_key)
            items = [h for h in items if h.contact == contact]
        return sorted(items, key=lambda h: h.path.name)

    def load(self, held: Held) -> InboundMessage:
        """The message in a file; DecryptionError or ValueError when it cannot be read."""
        return decode(self.vault.decrypt(held.path.read_text("ascii")))

    def _drop(self, held: Held) -> None:
        with self._lock:
            self._held.pop(held.message, None)
        held.path.unlink(missing_ok=True)

    def _set_aside(self, held: Held) -> None:
        aside = self.directory / UNREADABLE
        aside.mkdir(mode=0o700, exist_ok=True)
        os.replace(held.path, aside / held.path.name)
        with self._lock:
            self._held.pop(held.message, None)

    # --- replay ----------------------------------------------------------------------------------

    def due(self) -> bool:
        """Files are waiting and the back-off after a failed replay has passed."""
        with self._lock:
            if not self._held:
                return False
        return self._next_try is None or self.clock() >= self._next_try

    def replay(self, store: Callable[[InboundMessage], object], *, only: tuple[str, str] | None = None,
               skip: InboundMessage | None = None) -> int:
        """Hand each waiting message (oldest first) to `store`, which puts it in the database or raises;
        a stored one's file goes. After a failure a contact's later messages wait (their order holds) and
        the next round waits longer (doubling up to MAX_BACKOFF). `skip`: a message the caller is handling
        itself (a platform's retry of one kept here); its file stays until a later replay finds it stored.
        Returns how many were stored."""
        stored = 0
        blocked: set[str] = set()
        skipped = self._message(skip) if skip is not None else None
        for held in self.held(*only) if only else self.held():
            if held.contact in blocked or held.message == skipped:
                continue
            if not held.path.exists():  # another process replayed it
                self._drop(held)
                continue
            try:
                msg = self.load(held)
            except (DecryptionError, ValueError, KeyError, OSError) as exc:
                log.error("spooled message %s unreadable (%s): set aside", held.path.name, type(exc).__name__)
                self._set_aside(held)
                continue
            try:
                store(msg)
            except Exception as exc:  # noqa: BLE001 - the database still cannot take it: kept, tried again
                log.warning("spooled message %s not stored yet (%s)", held.path.name, type(exc).__name__)
                blocked.add(held.contact)
                continue
            self._drop(held)
            stored += 1
        if only is None:
            self._failures = self._failures + 1 if blocked else 0
            wait = min(MAX_BACKOFF, timedelta(seconds=2 ** min(self._failures, 16))) if blocked else None
            self._next_try = self.clock() + wait if wait else None
        return stored


def _fsync_dir(directory: Path) -> None:
    """The rename itself survives a crash once the directory is synced (POSIX)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
