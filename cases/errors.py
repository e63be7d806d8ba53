"""Domain errors: a stable English reason code plus a message; the API turns them into 409/422."""

from __future__ import annotations


class CaseError(Exception):
    """A refused domain operation with a machine-readable reason code."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        self.message = message or reason.replace("_", " ")
        super().__init__(f"{reason}: {self.message}")


class IntakeError(CaseError):
    """A report or signature that cannot be accepted as given (bad input or missing data)."""


class WorkflowError(CaseError):
    """An illegal workflow step (HTTP 409)."""
