"""Request and response models of the REST API. Responses carry masked values only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cases.models import Role


class ErrorOut(BaseModel):
    """Every error: a stable reason code and a message for people."""

    reason: str = Field(examples=["case_not_found"])
    message: str = Field(examples=["no such case in your area"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    role: Role
    area_code: str
    area_name: str | None = None
    phone: str | None = Field(default=None, description="masked")


class CreatedOut(BaseModel):
    id: int
    at: datetime
