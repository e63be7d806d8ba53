"""The official code tables the API's fields use (annexes 1, 2 and 6), and the case statuses in words."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.console.labels import STATUS_LABELS
from api.deps import CurrentStaff
from api.errors import responses
from api.schemas import CodeTables
from cases import codes
from conversations.i18n import translator

router = APIRouter(prefix="/api/codes", tags=["codes"])


@router.get("", response_model=CodeTables, responses=responses(401))
def code_tables(request: Request, _staff: CurrentStaff) -> CodeTables:
    """What `risks` ("01"-"09", A27), `guarantees` (A23-A26), `disasters` (A27a), `category`, the
    measures (A39...), a member's `relation_code` (A8) and details (A9-A17, and the A26 derived from A17)
    and `status` stand for, with annex 1's ①-⑭ numbers."""
    t = translator("api", request.app.state.settings.locale)
    return CodeTables(
        risks=codes.RISKS,
        guarantees=codes.GUARANTEES,
        disasters=codes.DISASTERS,
        categories={str(k): v for k, v in codes.CATEGORIES.items()},
        measures={m.code: m.name for m in codes.MEASURES.values()},
        annex1_items={str(i.annex1_no): i.name for i in codes.ANNEX1_ITEMS},
        relations=codes.MEMBER_RELATIONS,
        ethnicities=codes.ETHNICITIES,
        political_statuses=codes.POLITICAL_STATUSES,
        education=codes.EDUCATION_LEVELS,
        schooling=codes.SCHOOLING,
        health=codes.HEALTH,
        labour_skills=codes.LABOUR_SKILLS,
        work_areas=codes.WORK_AREAS,
        yes_no=codes.YES_NO,
        statuses={status: t.gettext(msgid) for status, msgid in STATUS_LABELS.items()},
    )
