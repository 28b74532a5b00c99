"""The register of the domain's write services and of the log row each one leaves.

Every public function of the domain that writes is marked `@audited(...)` with the actions it
records: rows of the audit trail (`workflow.models.AuditEvent.action`) or, for what happens to
a proposal in its life, of the transition log (`TransitionLog.transition`). A test
(tests/proposals/test_every_write_audited.py) finds every public function of the service
modules, and runs each marked one to check that it leaves such a row in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.utils.translation import gettext

Log = Literal["audit", "transition"]
Function = TypeVar("Function", bound=Callable[..., object])

AUDIT_MARK = "audited_writes"


@dataclass(frozen=True)
class AuditedWrite:
    """The rows a write service leaves: its actions, in the audit trail or the transition log."""

    actions: tuple[str, ...]
    log: Log = "audit"


class SystemActor:
    """The system itself as the one who writes: a command of the operators (the demo loader),
    not a person.

    Pass `SYSTEM` as the actor of a service that checks who may write (proposals.people,
    proposals.accounts): it may do what a superuser may. Its audit rows name no actor (the
    pages say "the system"), and nobody is emailed about its writes: it sets data up before
    anyone uses it. Services that check nobody (proposals.reference) take `actor=None` for
    the same rows. It is never a person who signed in, so no face can pass it by mistake.
    """

    pk = None
    is_authenticated = False
    is_superuser = False  # roles_of and the rules see nobody; the services let SYSTEM itself

    def __str__(self) -> str:
        return gettext("the system")

    def __repr__(self) -> str:
        return "SYSTEM"

    def get_full_name(self) -> str:
        return str(self)

    def get_username(self) -> str:
        return ""


SYSTEM = SystemActor()


# Every marked service, by "module.name".
AUDITED: dict[str, AuditedWrite] = {}


def audited(*actions: str, log: Log = "audit") -> Callable[[Function], Function]:
    """Mark a function as a write service that records one of `actions` in `log`."""
    if not actions:
        raise TypeError("Name the actions the service records.")

    def mark(function: Function) -> Function:
        write = AuditedWrite(actions=tuple(actions), log=log)
        setattr(function, AUDIT_MARK, write)
        AUDITED[f"{function.__module__}.{getattr(function, '__qualname__', '')}"] = write
        return function

    return mark


def audited_write(function: object) -> AuditedWrite | None:
    """The mark of a write service, or None for a function that is not one."""
    mark = getattr(function, AUDIT_MARK, None)
    return mark if isinstance(mark, AuditedWrite) else None
