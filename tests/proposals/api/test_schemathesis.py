"""The API against its own schema, as four people: schemathesis with all its checks (every answer
has a declared status, media type and shape; a request the schema calls invalid is refused; one
it calls valid is accepted or refused with a status the schema declares), for every operation,
with bounded examples and a fixed seed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from proposals.models import Person
from tests.factories import Group, api_token_key
from tests.proposals.api.helpers import proposal_in

pytestmark = pytest.mark.django_db

ROLES = ["drafter", "reviewer", "representative_ma", "secretariat"]
EXAMPLES = 2

# Rules that OpenAPI cannot state, so that a request valid by the schema may still be refused
# with a 400 that names the rule: the field of each, and why the schema cannot say it.
RULES_THE_SCHEMA_CANNOT_STATE = {
    "expires_at": "a token expires in the future, within a year of now",
    "decided_on": "an outcome is decided today or earlier",
    "ends_on": "an occasion or a term ends after it starts (a rule across two fields)",
    "left_on": "only a former member has a date it left on (a rule across two fields)",
    "country": "a national body names its country (a rule across two fields)",
    "non_field_errors": "a rule across fields, such as a reminder rule's kind or occasion",
    "password": "the requester's current password, which no schema knows",
    "token": "a confirmation link that is still valid",
    "cursor": "a cursor handed out by an earlier page, read with cursor pagination",
    "page": "a page number or a cursor, not both",
    "from": "a revision number the proposal has",
    "to": "a revision number the proposal has",
    "email": "an address nobody of the group uses yet, and not invited already",
    "roles": "roles the organisation may have (a representative only in a full member)",
    "organization": "an organisation that has not left the group",
}
"""Besides these, an id that names nothing (the reason code does_not_exist) is such a rule."""

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The token is the test's own (each role's), not one schemathesis makes up.
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture
def connections_kept_open() -> Iterator[None]:
    """Keep the test's database connection across WSGI requests, as Django's test client does
    (Django closes connections in a transaction when a request finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


OPERATIONS_REFUSING_WHAT_THE_SCHEMA_CANNOT_STATE = {
    "POST /api/people/me/email/confirm/": "a confirmation link that is still valid",
}


def refused_only_for_rules_the_schema_cannot_state(case: Any, response: Any) -> bool:
    """A 400 whose every error is a rule OpenAPI cannot state, or an id that names nothing."""
    if response.status_code != 400:
        return False
    if case.operation.label in OPERATIONS_REFUSING_WHAT_THE_SCHEMA_CANNOT_STATE:
        return True
    body = json.loads(response.content)
    fields = {key for key in body if key not in ("detail", "reasons", "code", "reason_codes")}
    unknown_ids = set(body.get("reason_codes", [])) == {"does_not_exist"}
    return unknown_ids or (bool(fields) and fields <= set(RULES_THE_SCHEMA_CANNOT_STATE))


def failures_of(operation: Any, mode: GenerationMode, person: Person) -> list[str]:
    """The first failing example of the operation in that mode, if any, with a token of its
    own (DELETE /api/auth/token/ revokes the token it is sent with)."""
    failures: list[str] = []
    schema.config.update(headers={"Authorization": f"Token {api_token_key(person)}"})

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call()
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        if not refused_only_for_rules_the_schema_cannot_state(case, response):
            case.validate_response(response, checks=[positive_data_acceptance])

    try:
        run()
    except Unsatisfiable:
        pass  # nothing of the operation can be made invalid in that mode
    except (Exception, BaseExceptionGroup) as failure:  # listed, then all are reported
        failures.append(f"{operation.label} ({mode.value}): {failure}")
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_the_schema_says_for_each_role(
    role: str, group: Group, connections_kept_open: None
) -> None:
    for state in ("draft", "in_review", "endorsement"):
        proposal_in(group, state)
    person = getattr(group, role)
    # Invalid input is refused the same way whoever sends it: the secretariat, who may call
    # every operation, sends it; everyone sends valid input.
    modes = [GenerationMode.POSITIVE]
    if role == "secretariat":
        modes.append(GenerationMode.NEGATIVE)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for mode in modes:
            failures.extend(failures_of(operation, mode, person))
    assert failures == [], "\n\n".join(failures)
