"""Why an action was refused, in words a person understands."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class RefusalKind(StrEnum):
    """What kind of no: never for this person, not now, or not with this input."""

    PERMISSION = "permission"  # this person may never do this
    STATE = "state"  # not from the state the object is in
    CONDITION = "condition"  # a condition is unmet now (deadline, quorum, approvals)
    CONFLICT = "conflict"  # someone else changed the object meanwhile
    INVALID = "invalid"  # the input is wrong (a required comment is missing)


class Reason(str):
    """One reason of a refusal: a translated sentence that also carries a stable machine-readable
    `code` (such as `not_author` or `deadline_passed`), the same in every language."""

    code: str

    def __new__(cls, code: str, message: str) -> Reason:
        reason = super().__new__(cls, message)
        reason.code = code
        return reason


def reason_code(reason: str) -> str:
    """The reason's code; a plain sentence has the code `refused`."""
    return getattr(reason, "code", "refused")


class Refused(Exception):  # noqa: N818 (a refusal, not a failure)
    """An action was refused; `reasons` are translated sentences, `errors` map fields to them."""

    def __init__(
        self,
        kind: RefusalKind,
        reasons: Sequence[str],
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__("; ".join(str(reason) for reason in reasons))
        self.kind = kind
        self.codes = [reason_code(reason) for reason in reasons]
        self.reasons = [str(reason) for reason in reasons]
        self.errors = errors or {}

    @property
    def is_permanent(self) -> bool:
        """True when the person may never do this, whatever the object's state."""
        return self.kind == RefusalKind.PERMISSION


def refuse_invalid_fields(errors: dict[str, list[str]]) -> None:
    """Refuses as invalid when any field has reasons, each kept under its field's name."""
    if errors:
        raise Refused(
            RefusalKind.INVALID,
            [reason for reasons in errors.values() for reason in reasons],
            errors,
        )


class UnknownTransition(LookupError):
    """No transition of that name exists on the object."""
