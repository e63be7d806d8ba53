"""Call-backs households ask for in the chat (人工): the hotline sees them, reveals the number to dial (an
audited unmasked view) and closes each with what the call settled, on the case's timeline when it has one.

A call-back is a Task of kind `callback` with the household's contact and no hotline call; the number it
gave (or the SMS sender's) is kept encrypted in its detail (conversations.apply RequestCallback)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from cases import audit
from cases.crypto import Vault, mask_text
from cases.errors import CaseError, WorkflowError
from cases.events import add_event, staff_label
from cases.models import AuditEntry, Case, Staff, Task, TaskStatus

CALLBACK = "callback"


def from_chats() -> ColumnElement[bool]:
    """The open call-backs asked for in a chat (not those the hotline scheduled after a call)."""
    return and_(Task.kind == CALLBACK, Task.hotline_call_id.is_(None), Task.contact_id.is_not(None),
                Task.status == TaskStatus.OPEN)


def _open(task: Task | None) -> Task:
    if task is None or task.kind != CALLBACK or task.hotline_call_id is not None or task.contact_id is None:
        raise LookupError("callback")
    if task.status != TaskStatus.OPEN:
        raise WorkflowError("callback_closed", "this call-back is closed already")
    return task


def phone_to_call(
    *, db: Session, vault: Vault, task: Task, actor: Staff, reason: str, now: datetime
) -> tuple[str, AuditEntry]:
    """The number to dial, unmasked, and the audit entry of this view."""
    _open(task)
    token = (task.detail or {}).get("phone_enc")
    if not token:
        raise CaseError("value_not_recorded", "no number is recorded for this call-back")
    entry = audit.record(db=db, actor=audit.staff_actor(actor.id), actor_staff_id=actor.id,
                         action="reveal.callback_phone", entity="task", entity_id=task.id,
                         area_code=task.area_code, detail={"reason": mask_text(reason)[:200]}, now=now)
    db.flush()
    return vault.decrypt(str(token)), entry


def close(*, db: Session, task: Task, actor: Staff, note: str, now: datetime) -> Task:
    """The call was made: what it settled (required), by whom; audited, and on the case's timeline."""
    _open(task)
    if not note.strip():
        raise CaseError("call_note_required", "say what the call settled")
    kept = mask_text(note.strip())[:500]
    task.status, task.done_at, task.done_note = TaskStatus.DONE, now, kept
    task.assignee_staff_id = task.assignee_staff_id or actor.id
    audit.record(db=db, actor=audit.staff_actor(actor.id), actor_staff_id=actor.id, action="callback.done",
                 entity="task", entity_id=task.id, area_code=task.area_code, detail={"case_id": task.case_id},
                 now=now)
    case = db.get(Case, task.case_id) if task.case_id is not None else None
    if case is not None:
        add_event(db, case, action="callback_done", now=now, actor_label=staff_label(actor),
                  actor_staff_id=actor.id, note=kept, data={"task_id": task.id})
    db.flush()
    return task
