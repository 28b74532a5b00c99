"""Every route of the site, fed hostile input by several people: never a 5xx, never a change.

The routes come from the URL resolver, so a new page or endpoint is fuzzed without being listed
here. Each route gets a bounded number of derandomised examples (the same ones on every run);
every failure of every route is gathered and reported with the route and the input.
"""

from __future__ import annotations

import hashlib
import json
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import FilterSet
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from proposals.models import Endorsement, Person, Proposal, Role
from tests.factories import Group, MembershipFactory, PersonFactory, proposal_draft
from workflow.models import AuditEvent, Delivery, TransitionLog

EXAMPLES_PER_ROUTE = 4
METHODS = ("GET", "POST", "PATCH", "DELETE")

# A POST to these is a complete, valid request whatever its body (renew my calendar link, ask
# for the erasure of my data): there is no input to make hostile, and the change it makes is the
# one asked for.
ACTIONS_WITHOUT_INPUT = {"calendar_token_renew", "calendar-link", "person-erasure-request"}

# The readiness probe answers 503 by design while a service it checks (the broker, the reminder
# scan) is down, as it may be in tests: that is its report, not a crash.
EXPECTED_5XX = {"health-ready": 503}

HOSTILE_SEGMENTS = [
    "0",
    "-1",
    "99999999999999999999",
    "9" * 5000,
    "1e9",
    "%00",
    "a%00b",
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%C3%A9t%C3%A9",
    "%F0%9F%92%A9",
    "%FF%FE",
    "%ED%A0%80",
    "null",
    "a" * 3000,
    "%20",
    "'%3B--",
    "%3Cscript%3E",
    "__proto__",
]

HOSTILE_TEXTS = [
    "",
    "\x00",
    "a\x00b",
    "0",
    "-1",
    "99999999999999999999",
    "9" * 5000,
    "1e400",
    "NaN",
    "-Infinity",
    "0001-01",
    "9999-12",
    "0000-00-00",
    "10000-01-01T00:00:00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "2026-13-45",
    "-id",
    "--",
    "nonexistent_field",
    "password",
    "__proto__",
    "a" * 10_000,
    "ÿ\ufeff\u202e",
    "\U0001f4a9",
    "[]",
    "{}",
    "true",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
]

JSON_BODIES = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "[" * 40 + "]" * 40,
    '{"title": "\\u0000", "name": "a\\u0000b", "username": "\\u0000"}',
    '{"name": "\\ud800", "text": "\\udfff"}',
    '{"name": 1e400}',
    '{"name": NaN}',
    '{"a": 1',
    "\x00",
    "null",
    "[]",
    '"just a string"',
    "123456789012345678901234567890",
    '{"password": "' + "a" * 100_000 + '"}',
]

EXTRA_QUERY_NAMES = [
    "page",
    "page_size",
    "ordering",
    "month",
    "from",
    "to",
    "format",
    "q",
    "o",
    "p",
    "e",
    "all",
    "status",
    "kind",
    "next",
    "search",
    "_changelist_filters",
    "_popup",
    "_to_field",
    "lang",
    "language",
]

EXTRA_FIELD_NAMES = [
    "username",
    "password",
    "old_password",
    "new_password1",
    "new_password2",
    "email",
    "otp_token",
    "code",
    "token",
    "comment",
    "reason",
    "next",
    "post",
    "action",
    "_selected_action",
    "select_across",
    "index",
    "organization",
    "preview",
    "language",
    "timezone",
    "expires_on",
    "deadline_change_reason",
]


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name or ""


CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    """One URL pattern as a path template, with its parameter names in `{}`."""

    pattern: str
    name: str
    template: str
    parameters: tuple[str, ...]


def route_of(pattern: str, name: str) -> Route:
    template = NAMED_GROUP.sub(lambda m: "{" + m.group(1) + "}", pattern)
    template = CONVERTER.sub(lambda m: "{" + m.group(1) + "}", template)
    template = re.sub(r"\(\?:[^)]*\)\??|\.\*", "", template)
    template = template.replace("^", "").replace("$", "").replace("\\", "")
    return Route(pattern, name, "/" + template, tuple(re.findall(r"\{(\w+)\}", template)))


def all_routes() -> list[Route]:
    """Every route the resolver knows, pages, API, admin and accounts alike, once each."""
    seen: dict[str, Route] = {}
    for pattern, name in _routes(get_resolver().url_patterns):
        seen.setdefault(pattern, route_of(pattern, name))
    return list(seen.values())


def filter_names() -> list[str]:
    """The name of every filter of every FilterSet of the project, and the usual extras."""
    import proposals.api.reminders  # noqa: F401
    import proposals.filtersets  # noqa: F401
    import proposals.web.views.proposals  # noqa: F401

    names: set[str] = set(EXTRA_QUERY_NAMES)
    pending: list[type[FilterSet]] = [FilterSet]
    while pending:
        filterset = pending.pop()
        pending.extend(filterset.__subclasses__())
        names.update(filterset.base_filters)
    return sorted(names)


def field_names() -> list[str]:
    """The name of every field of the domain's models, and the names forms of accounts use."""
    names = set(EXTRA_FIELD_NAMES)
    for app_label in ("proposals", "workflow"):
        for model in apps.get_app_config(app_label).get_models():
            names.update(f.name for f in model._meta.get_fields() if not f.auto_created)
    return sorted(names)


# The domain's data, and what is allowed to change


def domain_querysets() -> dict[str, models.QuerySet[Any]]:
    """Every table of the domain; of the audit trail, every row but the security events."""
    querysets: dict[str, models.QuerySet[Any]] = {
        model._meta.label: model._default_manager.all()
        for model in apps.get_app_config("proposals").get_models(include_auto_created=True)
    }
    querysets[TransitionLog._meta.label] = TransitionLog.objects.all()
    querysets[Delivery._meta.label] = Delivery.objects.all()
    querysets[AuditEvent._meta.label] = AuditEvent.objects.filter(security=False)
    return querysets


# A login, not the request under test, sets last_login.
IGNORED_COLUMNS = {Person._meta.label: {"last_login"}}


def domain_queries() -> dict[str, tuple[str, tuple[Any, ...]]]:
    """Per table, the SQL that reads every compared column of every row, in a stable order."""
    queries = {}
    for label, queryset in domain_querysets().items():
        ignored = IGNORED_COLUMNS.get(label, set())
        columns = [f.attname for f in queryset.model._meta.concrete_fields if f.name not in ignored]
        queries[label] = queryset.order_by("pk").values_list(*columns).query.sql_with_params()
    return queries


def domain_snapshot(queries: dict[str, tuple[str, tuple[Any, ...]]]) -> dict[str, tuple[int, str]]:
    """Per table, its row count and a checksum of every compared column of every row."""
    snapshot = {}
    with connection.cursor() as cursor:
        for label, (sql, params) in queries.items():
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            snapshot[label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return snapshot


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"{label}: {before[label]} -> {after.get(label)}"
        for label in before
        if before[label] != after.get(label)
    ]


# The requests


@dataclass
class HostileRequest:
    person: str
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str
    headers: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"as {self.person}: {self.method} {self.path[:300]!r} query={str(self.query)[:300]} "
            f"content_type={self.content_type!r} body={self.body[:300]!r} "
            f"headers={self.headers!r}"
        )


def encoded_segment(text: str) -> str:
    return quote(text, safe="")


def hostile_path_values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_SEGMENTS), st.text(max_size=40).map(encoded_segment))


def path_values(valid_ids: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(hostile_path_values(), st.sampled_from(valid_ids))


def query_strategy(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    values = st.one_of(st.sampled_from(HOSTILE_TEXTS), st.text(max_size=30))
    return st.dictionaries(st.sampled_from(names), values, max_size=4)


def json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.sampled_from(HOSTILE_TEXTS),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=6,
    )


def body_strategy(names: list[str]) -> st.SearchStrategy[tuple[bytes, str]]:
    """A body and the content type it claims to be: often a lie, always hostile."""
    form = st.dictionaries(
        st.sampled_from(names), st.sampled_from(HOSTILE_TEXTS) | st.text(max_size=30), max_size=5
    )
    json_object = st.dictionaries(st.sampled_from(names), json_values(), max_size=5)
    content_types = st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=BoUnDaRy",
            "text/plain",
            "application/xml",
            "application/json; charset=latin-1",
            "",
        ]
    )
    return st.one_of(
        st.tuples(st.sampled_from(JSON_BODIES).map(str.encode), st.just("application/json")),
        st.tuples(json_object.map(lambda d: json.dumps(d).encode()), content_types),
        st.tuples(
            form.map(lambda d: urlencode(d).encode()),
            st.sampled_from(["application/x-www-form-urlencoded", "application/json"]),
        ),
        st.tuples(form.map(multipart_body), st.just("multipart/form-data; boundary=BoUnDaRy")),
        st.tuples(st.binary(max_size=200), content_types),
        st.tuples(st.just(b"\xff\xfe\xfd\x00\xc3("), content_types),
        st.tuples(st.just(b""), content_types),
    )


def multipart_body(values: dict[str, str]) -> bytes:
    parts = [
        f'--BoUnDaRy\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in values.items()
    ]
    return ("".join(parts) + "--BoUnDaRy--\r\n").encode("utf-8", "surrogatepass")


HEADERS = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {"HTTP_ACCEPT_LANGUAGE": st.sampled_from(["fr", "xx-YY", "*;q=NaN", "a" * 500])}
    ),
    st.fixed_dictionaries(
        {"HTTP_ACCEPT": st.sampled_from(["text/csv", "application/xml", "*/*;q=-1"])}
    ),
    st.just({"HTTP_USER_AGENT": "fuzz\x00agent"}),
    st.just({"HTTP_AUTHORIZATION": "Token " + "\x00" * 3}),
    st.just({"HTTP_AUTHORIZATION": "Token " + "a" * 5000}),
)


def response_exception(response: Any) -> str:
    """The end of the traceback of the exception the view raised, if it raised one."""
    if not getattr(response, "exc_info", None):
        return ""
    return "".join(traceback.format_exception(*response.exc_info)[-3:])


def send(client: Client, request: HostileRequest) -> Any:
    path = request.path
    if request.query:
        path += "?" + urlencode(request.query)
    return client.generic(
        request.method,
        path,
        data=request.body,
        content_type=request.content_type,
        **request.headers,
    )


# The fuzz


@pytest.fixture
def people(group: Group) -> dict[str, Person | None]:
    """Who sends the requests: nobody, an observer, a drafter, the secretariat, the superuser."""
    root = PersonFactory.create(username="root", is_staff=True, is_superuser=True)
    return {
        "anonymous": None,
        "observer": group.observer,
        "drafter": group.drafter,
        "secretariat": group.secretariat,
        "superuser": root,
    }


@pytest.fixture
def valid_ids(group: Group) -> list[str]:
    """Ids that exist, a proposal's first, so that hostile queries also reach real objects."""
    proposal = proposal_draft(group, title="Fuzzed proposal")
    MembershipFactory.create(person=group.secretariat, organization=group.france, role=Role.DRAFTER)
    endorsement = Endorsement.objects.filter(proposal=proposal).first()
    ids = {str(proposal.pk), str(group.occasion.pk), str(group.body.pk), str(group.drafter.pk)}
    if endorsement is not None:
        ids.add(str(endorsement.pk))
    others = sorted(ids - {str(proposal.pk)})
    return [str(proposal.pk), *others, "1", "submit_for_review", "withdraw", "approve"]


@dataclass
class Fuzzing:
    """What every route's fuzz shares: the people's clients, the names to use, the baseline."""

    clients: dict[str, Client]
    query_names: list[str]
    body_names: list[str]
    valid_ids: list[str]
    queries: dict[str, tuple[str, tuple[Any, ...]]]
    baseline: dict[str, tuple[int, str]]


def test_every_route_answers_hostile_input_without_5xx_or_a_change_of_data(
    people: dict[str, Person | None], valid_ids: list[str]
) -> None:
    routes = all_routes()
    assert len(routes) > 50, "the resolver should list pages, API, admin and accounts"
    clients = {}
    for name, person in people.items():
        client = Client(raise_request_exception=False)
        if person is not None:
            client.force_login(person)
        clients[name] = client
    queries = domain_queries()
    fuzzing = Fuzzing(
        clients, filter_names(), field_names(), valid_ids, queries, domain_snapshot(queries)
    )
    assert Proposal.objects.exists()
    failures: list[str] = []

    for route in routes:
        failures.extend(route_fuzz(route, fuzzing))

    assert not failures, f"{len(failures)} hostile requests failed:\n" + "\n".join(failures)


def known_hostile_examples(route: Route, valid_id: str) -> list[dict[str, Any]]:
    """Requests every route receives besides the generated ones: the crashes found before."""
    nested = ("[" * 100_000 + "]" * 100_000).encode()

    def request(
        person: str, method: str, segment: str, query: dict[str, str], body: bytes = b""
    ) -> dict[str, Any]:
        parameters = {name: segment for name in route.parameters}
        return {
            "person": person,
            "method": method,
            "read_parameters": parameters,
            "write_parameters": parameters,
            "query": query,
            "body": (body, "application/json"),
            "headers": {},
        }

    far = {"page": "9" * 21, "page_size": "9" * 21, "ordering": "-nonexistent", "to": "-1"}
    return [
        request("anonymous", "POST", "0", {}, nested),
        request("drafter", "POST", "0", {}, nested),
        request("anonymous", "GET", "%00", {}),
        request("drafter", "GET", valid_id, {"month": "0001-01", **far}),
        request("secretariat", "GET", valid_id, {"month": "9999-12", "from": "9" * 21}),
    ]


def route_fuzz(route: Route, fuzzing: Fuzzing) -> list[str]:
    """Hostile requests to one route; what each failure was, with the route and the input.

    Reads may aim at objects that exist; writes aim only at ids that do not, since a write to
    a real object whose input happens to be valid is a change asked for, not an attack. Each
    request runs in a savepoint that is rolled back, so every one starts from the baseline.
    """
    failures: list[str] = []
    label = f"route {route.pattern!r} ({route.name or 'unnamed'})"

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        person=st.sampled_from(sorted(fuzzing.clients)),
        method=st.sampled_from(METHODS),
        read_parameters=st.fixed_dictionaries(
            {name: path_values(fuzzing.valid_ids) for name in route.parameters}
        ),
        write_parameters=st.fixed_dictionaries(
            {name: hostile_path_values() for name in route.parameters}
        ),
        query=query_strategy(fuzzing.query_names),
        body=body_strategy(fuzzing.body_names),
        headers=HEADERS,
    )
    def fuzz(
        person: str,
        method: str,
        read_parameters: dict[str, str],
        write_parameters: dict[str, str],
        query: dict[str, str],
        body: tuple[bytes, str],
        headers: dict[str, str],
    ) -> None:
        if len(failures) >= 3:
            return
        if method == "POST" and route.name in ACTIONS_WITHOUT_INPUT:
            method = "PATCH"
        request = HostileRequest(
            person=person,
            method=method,
            path=route.template.format(
                **(read_parameters if method == "GET" else write_parameters)
            ),
            query=query,
            body=body[0] if method != "GET" else b"",
            content_type=body[1],
            headers=headers,
        )
        try:
            with transaction.atomic():
                response = send(fuzzing.clients[person], request)
                after = domain_snapshot(fuzzing.queries)
                transaction.set_rollback(True)
        except DatabaseError as error:
            failures.append(f"{label} {request.describe()}: database error {error!r}")
            return
        except Exception:  # noqa: BLE001 - any exception is a failure to report, with its input
            failures.append(f"{label} {request.describe()}: raised\n{traceback.format_exc()}")
            return
        expected = EXPECTED_5XX.get(route.name) == response.status_code
        if response.status_code >= 500 and not (expected and not response_exception(response)):
            cause = response_exception(response)
            failures.append(f"{label} {request.describe()}: {response.status_code}\n{cause}")
            return
        changes = snapshot_changes(fuzzing.baseline, after)
        if changes:
            failures.append(
                f"{label} {request.describe()}: {response.status_code} but changed "
                + "; ".join(changes)
            )

    for known in known_hostile_examples(route, fuzzing.valid_ids[0]):
        fuzz = example(**known)(fuzz)
    fuzz()
    return failures
