"""Running transitions, and queueing what they tell people. The only way a state changes."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django_fsm import RETURN_VALUE, can_proceed

from workflow.errors import RefusalKind, Refused, UnknownTransition
from workflow.events import event_id_named
from workflow.models import Delivery, TransitionLog
from workflow.outbox import WAITS_FOR, outbox_write
from workflow.policy import Notice, WorkflowPolicy, policy_for

logger = logging.getLogger(__name__)


STATE_NOT_SEEN = ""
"""The `seen_state` of a caller that read no state (an API client naming the object by its
id): the state is not compared, only the version the actor sent, if any."""


@dataclass(frozen=True)
class TransitionOption:
    """A transition as one person sees it on one object now."""

    name: str
    label: str
    target: str
    allowed: bool
    kind: RefusalKind | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TransitionResult:
    obj: Any
    log: TransitionLog
    deliveries: list[int]


def transition_names(model: type[models.Model]) -> list[str]:
    """The model's transition names, in declaration order."""
    policy = policy_for(model)
    names: list[str] = []
    for declared in _declared_transitions(model, policy):
        if declared.name not in names:
            names.append(declared.name)
    return names


def transition_targets(model: type[models.Model]) -> list[tuple[str, str, str]]:
    """Every (source, transition, target) edge of the model's state machine."""
    policy = policy_for(model)
    edges = []
    for declared in _declared_transitions(model, policy):
        for target in _targets(declared.target):
            edges.append((str(declared.source), declared.name, str(target)))
    return edges


def transition_run(
    *,
    obj: models.Model,
    name: str,
    actor: Any,
    comment: str = "",
    arguments: dict[str, Any] | None = None,
    now: datetime | None = None,
    seen_version: int | None = None,
    seen_state: str | None = None,
    only_if_visible: bool = False,
) -> TransitionResult:
    """Run one transition with its row locked, or raise Refused with the reasons.

    What the actor saw is compared with the locked row, and a difference is refused as a
    conflict (someone changed it meanwhile): `seen_state`, by default the state of `obj`, and
    `seen_version`, the version they acted on, when given (the policy must have a
    `version_field`). A changed version is a conflict only if the transition could otherwise
    run; if not, the refusal says why. `obj` read in the same request as the call shows only
    what changed in the last milliseconds, so faces pass what the actor's page or client
    held. A transition that runs raises the version by one.

    With `only_if_visible`, the lock reads the object only if the actor may see it (else the
    model's DoesNotExist): a caller that has not read it (`obj` holds only its key, and
    `seen_state` is STATE_NOT_SEEN) checks its visibility in the same query.
    """
    policy = policy_for(obj)
    if name not in transition_names(type(obj)):
        raise UnknownTransition(name)
    if seen_version is not None and policy.version_field is None:
        raise ValueError(f"{type(obj).__name__} has no version field to compare seen_version.")
    if seen_state is None:
        seen_state = getattr(obj, policy.state_field)
    comment = (comment or "").strip()
    now = now or timezone.now()

    with transaction.atomic():
        locked = policy.lock(obj, visible_to=actor if only_if_visible else None)
        refusal = _permission_refusal(policy, locked, name, actor)
        if refusal:
            raise refusal
        errors, cleaned = policy.validate(locked, name, comment, arguments or {})
        if errors:
            reasons = [message for messages in errors.values() for message in messages]
            raise Refused(RefusalKind.INVALID, reasons, errors)
        refusal = _situation_refusal(
            policy,
            locked,
            name,
            actor,
            cleaned,
            now,
            seen_state=seen_state,
            seen_version=seen_version,
        )
        if refusal:
            raise refusal
        source = getattr(locked, policy.state_field)
        method_arguments = policy.prepare(locked, name, actor, comment, cleaned)
        getattr(locked, name)(**method_arguments)
        target = getattr(locked, policy.state_field)
        update_fields = [
            policy.state_field,
            *policy.update_fields(name),
            *policy.entered(locked, target, now),
        ]
        if policy.version_field:
            setattr(locked, policy.version_field, getattr(locked, policy.version_field) + 1)
            update_fields.append(policy.version_field)
        locked.save(update_fields=update_fields)
        log = TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(locked),
            object_id=locked.pk,
            transition=name,
            source=source,
            target=target,
            actor=actor,
            at=now,
            comment=comment,
            data=_json_safe(cleaned),
        )
        notices = policy.finish(locked, name, actor, comment, cleaned, log)
        delivery_ids = deliveries_enqueue(notices, key_prefix=f"log{log.pk}", about=locked, now=now)
    return TransitionResult(obj=locked, log=log, deliveries=delivery_ids)


def transition_options(
    *, obj: models.Model, actor: Any, now: datetime | None = None
) -> list[TransitionOption]:
    """Every transition of the object, whether this person can run it now, and if not why."""
    policy = policy_for(obj)
    now = now or timezone.now()
    options = []
    for name in transition_names(type(obj)):
        refusal = _permission_refusal(policy, obj, name, actor) or _situation_refusal(
            policy, obj, name, actor, {}, now, seen_state=getattr(obj, policy.state_field)
        )
        options.append(
            TransitionOption(
                name=name,
                label=policy.label(name),
                target=_target_from(obj, name, policy),
                allowed=refusal is None,
                kind=refusal.kind if refusal else None,
                reasons=refusal.reasons if refusal else [],
            )
        )
    return options


def action_log(
    *,
    obj: models.Model,
    action: str,
    actor: Any,
    comment: str = "",
    data: dict[str, Any] | None = None,
    source: str | None = None,
    target: str | None = None,
    now: datetime | None = None,
) -> TransitionLog:
    """Record an action that is not a state change (a creation, an endorsement) in the log."""
    policy = policy_for(obj)
    state = getattr(obj, policy.state_field)
    return TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        transition=action,
        source=state if source is None else source,
        target=state if target is None else target,
        actor=actor,
        at=now or timezone.now(),
        comment=comment,
        data=_json_safe(data or {}),
    )


def deliveries_enqueue(
    notices: Iterable[Notice],
    *,
    key_prefix: str,
    about: models.Model | None = None,
    kind: str = Delivery.Kind.NOTIFICATION,
    now: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> list[int]:
    """Write one email row per notice, all with one event id (one call is one event, named by
    its key prefix, unless the caller passes the id of an event it already wrote); the outbox
    adds their in-page rows, and they are dispatched once the transaction commits.

    A notice whose key already exists is skipped, so a repeat never sends twice (nor shows
    twice in the pages: a repeat is the same event).
    """
    notices = list(notices)
    now = now or timezone.now()
    event_id = event_id or event_id_named(f"enqueue:{key_prefix}")
    content_type = ContentType.objects.get_for_model(about) if about is not None else None
    rows = []
    for notice in notices:
        key = f"{key_prefix}:{notice.template}:p{notice.recipient_id}"
        if notice.address:
            key += ":a" + hashlib.sha256(notice.address.lower().encode()).hexdigest()[:16]
        rows.append(
            Delivery(
                key=key,
                kind=kind,
                channel=Delivery.Channel.EMAIL,
                event=notice.event,
                event_id=event_id,
                recipient_id=notice.recipient_id,
                address=notice.address,
                template=notice.template,
                context=(
                    {**notice.context, WAITS_FOR: notice.waits_for}
                    if notice.waits_for
                    else notice.context
                ),
                essential=notice.essential,
                content_type=content_type,
                object_id=about.pk if about is not None else None,
                created_at=now,
            )
        )
    known = {notice.recipient_id: notice.settings for notice in notices if notice.settings}
    return outbox_write(rows, known)


def _permission_refusal(policy: WorkflowPolicy, obj: Any, name: str, actor: Any) -> Refused | None:
    """The person may never run this transition on this object."""
    reasons = policy.permission_reasons(obj, name, actor)
    return Refused(RefusalKind.PERMISSION, reasons) if reasons else None


def _situation_refusal(
    policy: WorkflowPolicy,
    obj: Any,
    name: str,
    actor: Any,
    arguments: dict[str, Any],
    now: datetime,
    *,
    seen_state: str,
    seen_version: int | None = None,
) -> Refused | None:
    """The transition is not possible now, checked in this order: its state is not the one
    the actor saw (a conflict); not from this state; a condition is unmet; its version is not
    the one the actor saw (a conflict). A change of version that leaves the transition
    impossible anyway is reported by the reason why, which says more than "reload"."""
    if seen_state != STATE_NOT_SEEN and getattr(obj, policy.state_field) != seen_state:
        return Refused(RefusalKind.CONFLICT, [policy.conflict_reason(obj)])
    if not can_proceed(getattr(obj, name), check_conditions=False):
        return Refused(RefusalKind.STATE, [policy.state_reason(obj, name)])
    reasons = policy.condition_reasons(obj, name, actor, arguments, now)
    if reasons:
        return Refused(RefusalKind.CONDITION, reasons)
    if (
        seen_version is not None
        and policy.version_field
        and getattr(obj, policy.version_field) != seen_version
    ):
        return Refused(RefusalKind.CONFLICT, [policy.conflict_reason(obj)])
    return None


def _declared_transitions(model: type[models.Model], policy: WorkflowPolicy) -> list[Any]:
    state_field: Any = model._meta.get_field(policy.state_field)
    return list(state_field.get_all_transitions(model))


def _targets(target: Any) -> list[Any]:
    if isinstance(target, RETURN_VALUE):
        return list(target.allowed_states or [])
    return [target]


def _target_from(obj: Any, name: str, policy: WorkflowPolicy) -> str:
    """Where the transition leads from the object's state (or from its first source)."""
    declared = [t for t in _declared_transitions(type(obj), policy) if t.name == name]
    state = getattr(obj, policy.state_field)
    chosen = next((t for t in declared if t.source == state), declared[0])
    return str(_targets(chosen.target)[-1])


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, models.Model):
            safe[key] = value.pk
        elif isinstance(value, str | int | float | bool) or value is None:
            safe[key] = value
        else:
            safe[key] = str(value)
    return safe
