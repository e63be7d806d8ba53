"""What the parser returns: a Parse (serialisable; keys of the CLI contract in design.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Intent = Literal["report", "status", "consent", "decline", "cancel", "help", "human", "greeting", "other"]


@dataclass(frozen=True, slots=True)
class Place:
    """A matched division: as far down as the text goes (county, township, village)."""

    code: str
    level: str  # province | city | county | township | village
    name: str
    city: str | None = None
    city_code: str | None = None
    county: str | None = None
    county_code: str | None = None
    township: str | None = None
    township_code: str | None = None
    village: str | None = None
    village_code: str | None = None


@dataclass(frozen=True, slots=True)
class Parse:
    intent: Intent = "other"
    risks: list[str] = field(default_factory=list)  # A27 "01".."09"
    disasters: list[str] = field(default_factory=list)  # A27a "01".."07"
    guarantees: list[str] = field(default_factory=list)  # "A23".."A26"
    urgent: bool = False
    amounts: list[float] = field(default_factory=list)  # yuan; a range is one amount, its upper bound
    household_size: int | None = None
    id_numbers: list[str] = field(default_factory=list)  # pass GB 11643 only, normalised (upper X)
    invalid_id_numbers: list[str] = field(default_factory=list)  # look like ID numbers but fail
    phones: list[str] = field(default_factory=list)  # digits only
    place: Place | list[Place] | None = None  # list = ambiguous candidates
    relation: str | None = None  # the reporter's relation when reporting for someone else
    # code -> the words that raised it, for read-back. Keys are namespaced so they cannot collide:
    # "A27-01".."A27-09" (risks), "A27a-01".."A27a-07" (disasters), "A23".."A26", "urgent", "intent".
    triggers: dict[str, list[str]] = field(default_factory=dict)
    urgent_reasons: list[str] = field(default_factory=list)  # hospital collapse food water trapped emergency
    legacy_id_numbers: list[str] = field(default_factory=list)  # 15-digit (1989): ask for the 18-digit
    negated: list[str] = field(default_factory=list)  # words seen but negated or resolved (raised nothing)
    # the full name a self-introduction or hotline note gives (我叫张三, 来电人王五); a family name with an
    # honorific (张大爷) or alone (我姓刘) is None: this fills the head-of-household name field
    person_name: str | None = None
    # one per amount, in the same order: a range (五六万, 两万到三万, 三五块), 三万多, 两千来块, 三万左右,
    # 大概两万, a vague figure (几万, 好几千, 十几万, 几十万)
    amounts_approximate: list[bool] = field(default_factory=list)

    def contract(self) -> dict[str, Any]:
        """The keys of `python -m nlu parse` output, exactly as design.md lists them."""
        d = asdict(self)
        return {k: d[k] for k in ("intent", "risks", "disasters", "guarantees", "urgent", "amounts",
                                  "household_size", "id_numbers", "phones", "place")}
