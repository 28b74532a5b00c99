"""A person's feed kept in the cache under its fingerprint: a poll that changes nothing reads the
person and their roles and answers the same bytes without writing the iCalendar; every change
the feed shows, and every change of what it depends on, writes it again."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import icalendar
import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from proposals import people, reference
from proposals.calendar_generation import (
    GENERATION_KEY,
    calendar_generation,
    calendar_generation_bump,
)
from proposals.calendars import feeds
from proposals.calendars import views as calendar_views
from proposals.models import Person, Proposal, ProposalState, Role
from proposals.services import (
    calendar_token_regenerate,
    occasion_move_deadline,
    proposal_create,
    proposal_transition_run,
)
from tests.factories import Group, OccasionFactory, proposal_draft

pytestmark = pytest.mark.django_db

COLD_QUERIES = 6
"""The person, their roles, the recent occasions, the proposals seen at each, those named, the
occasions followed."""

WARM_QUERIES = 2
"""The person and their roles."""


def poll(person: Person) -> bytes:
    response = Client().get(f"/calendar/{person.calendar_token}.ics")
    assert response.status_code == 200
    return bytes(response.content)


class Writes:
    """How many times the iCalendar was written since the counter was made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        render = calendar_views.calendar_render

        def counted(*args: Any, **kwargs: Any) -> bytes:
            self.count += 1
            return render(*args, **kwargs)

        monkeypatch.setattr(calendar_views, "calendar_render", counted)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    return Writes(monkeypatch)


def summaries_and_descriptions(body: bytes) -> list[str]:
    """What the events say, without the time each was written (DTSTAMP)."""
    return [
        f"{event['uid']} {event['summary']} {event.get('description', '')} {event['dtstart']}"
        for event in icalendar.Calendar.from_ical(body).walk("VEVENT")
    ]


def test_a_poll_that_changes_nothing_answers_the_same_bytes_from_two_queries(
    group: Group, writes: Writes, django_assert_num_queries: Any
) -> None:
    proposal_draft(group, title="Fair trade in public procurement")
    first = poll(group.drafter)
    assert writes.count == 1
    with django_assert_num_queries(WARM_QUERIES):
        second = poll(group.drafter)
    assert second == first
    assert writes.count == 1
    head = Client().head(f"/calendar/{group.drafter.calendar_token}.ics")
    assert head["Content-Length"] == str(len(first))
    assert writes.count == 1


def test_a_cold_and_a_warm_feed_run_a_pinned_number_of_queries_whatever_the_occasions(
    group: Group, django_assert_num_queries: Any
) -> None:
    proposal_draft(group)
    for count in (1, 6):
        for index in range(count):
            proposal_draft(group, occasion=OccasionFactory(name=f"Summit {count}-{index}"))
        with django_assert_num_queries(COLD_QUERIES):
            poll(group.secretariat)
        with django_assert_num_queries(WARM_QUERIES):
            poll(group.secretariat)


def test_a_not_modified_answer_from_the_kept_feed_writes_nothing(
    group: Group, writes: Writes
) -> None:
    proposal_draft(group)
    url = f"/calendar/{group.drafter.calendar_token}.ics"
    first = Client().get(url)
    for method in (Client().get, Client().head):
        again = method(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again["ETag"] == first["ETag"]
        assert again["Content-Language"] == "en"
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert writes.count == 1


def changes_the_body(group: Group, person: Person, change: Callable[[], object]) -> bytes:
    """The person's feed after `change`, which must differ in what its events say."""
    before = poll(person)
    assert poll(person) == before
    change()
    after = poll(person)
    assert summaries_and_descriptions(after) != summaries_and_descriptions(before)
    return after


def test_a_moved_deadline_is_written_again(group: Group) -> None:
    proposal_draft(group)
    new_deadline = timezone.now() + dt.timedelta(days=45)
    after = changes_the_body(
        group,
        group.drafter,
        lambda: occasion_move_deadline(
            occasion=group.occasion, new_deadline=new_deadline, actor=group.secretariat
        ),
    )
    assert new_deadline.astimezone(group.occasion.zone).strftime("%Y%m%dT%H%M%S").encode() in after


def test_a_renamed_occasion_is_written_again(group: Group) -> None:
    proposal_draft(group)
    after = changes_the_body(
        group,
        group.drafter,
        lambda: reference.occasion_update(
            actor=group.secretariat, occasion=group.occasion, changes={"name": "UNGA 81 bis"}
        ),
    )
    assert b"UNGA 81 bis" in after


def test_a_transition_is_written_again(group: Group) -> None:
    proposal = proposal_draft(group, title="Fair trade")
    after = changes_the_body(
        group,
        group.drafter,
        lambda: proposal_transition_run(
            proposal=proposal, name="submit_for_review", actor=group.drafter
        ),
    )
    assert "Fair trade (In review)" in " ".join(summaries_and_descriptions(after))


def test_a_new_visible_proposal_is_written_again(group: Group) -> None:
    proposal_draft(group, title="Fair trade")
    after = changes_the_body(
        group,
        group.drafter,
        lambda: proposal_create(
            author=group.drafter,
            title="Zero waste",
            lead_organization=group.france,
            occasion=group.occasion,
        ),
    )
    assert "Zero waste (Draft)" in " ".join(summaries_and_descriptions(after))


def test_a_deleted_proposal_is_written_again(group: Group) -> None:
    proposal_draft(group, title="Fair trade")
    doomed = proposal_draft(group, title="Zero waste")
    after = changes_the_body(
        group, group.drafter, lambda: Proposal.objects.filter(pk=doomed.pk).delete()
    )
    assert "Zero waste" not in " ".join(summaries_and_descriptions(after))


def test_a_proposal_hidden_from_a_former_author_is_written_again(group: Group) -> None:
    """The observer (Québec) sees France's draft only as one of its authors."""
    proposal = proposal_draft(group, title="Fair trade", authors=[group.drafter, group.observer])
    before = poll(group.observer)
    assert "Fair trade (Draft)" in " ".join(summaries_and_descriptions(before))
    after = changes_the_body(group, group.observer, lambda: proposal.authors.remove(group.observer))
    assert "Fair trade" not in " ".join(summaries_and_descriptions(after))


def test_a_withdrawn_proposal_is_written_again(group: Group) -> None:
    proposal = proposal_draft(group, title="Fair trade")
    after = changes_the_body(
        group,
        group.drafter,
        lambda: proposal_transition_run(proposal=proposal, name="withdraw", actor=group.drafter),
    )
    assert "Fair trade" not in " ".join(summaries_and_descriptions(after))


def test_a_new_role_is_written_again(group: Group) -> None:
    proposal_draft(group, title="Fair trade")
    assert "Fair trade" not in " ".join(summaries_and_descriptions(poll(group.outsider)))
    after = changes_the_body(
        group,
        group.outsider,
        lambda: people.person_update(
            actor=group.secretariat,
            person=group.outsider,
            changes={},
            roles=[(group.france, Role.DRAFTER)],
        ),
    )
    assert "Fair trade (Draft)" in " ".join(summaries_and_descriptions(after))


def test_a_new_language_is_written_again(group: Group) -> None:
    proposal_draft(group)
    after = changes_the_body(
        group,
        group.drafter,
        lambda: people.person_settings_update(person=group.drafter, language="fr"),
    )
    assert "Date limite" in " ".join(summaries_and_descriptions(after))


def test_a_new_time_zone_or_link_reads_the_feed_again(
    group: Group, writes: Writes, django_assert_num_queries: Any
) -> None:
    """Neither shows in the text (the link is not in it, deadlines are in the occasion's zone):
    the facts are read again and found the same, so the kept text is answered."""
    proposal_draft(group)
    first = poll(group.drafter)
    people.person_settings_update(person=group.drafter, timezone="Europe/Paris")
    with django_assert_num_queries(COLD_QUERIES):
        assert poll(group.drafter) == first
    old = group.drafter.calendar_token
    calendar_token_regenerate(person=group.drafter)
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    with django_assert_num_queries(COLD_QUERIES):
        assert poll(group.drafter) == first
    with django_assert_num_queries(WARM_QUERIES):
        assert poll(group.drafter) == first
    assert writes.count == 1


def test_the_next_day_an_occasion_a_year_old_leaves_the_feed(group: Group) -> None:
    noon = dt.datetime(2031, 3, 10, 12, tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False) as clock:
        start_of_day = noon.replace(hour=0)
        old: Any = OccasionFactory(
            name="A year ago",
            submission_deadline=start_of_day - feeds.PAST_WINDOW + dt.timedelta(hours=1),
            starts_on=(start_of_day - dt.timedelta(days=370)).date(),
            ends_on=(start_of_day - dt.timedelta(days=366)).date(),
        )
        today = poll(group.secretariat)
        assert f"deadline-{old.pk}@".encode() in today
        assert poll(group.secretariat) == today
        clock.move_to(noon + dt.timedelta(days=1))
        tomorrow = poll(group.secretariat)
        assert f"deadline-{old.pk}@".encode() not in tomorrow


def test_a_write_raises_the_generation_at_once_and_again_after_its_commit(
    group: Group, django_capture_on_commit_callbacks: Any
) -> None:
    proposal = proposal_draft(group)
    start = calendar_generation()
    assert start is not None
    with django_capture_on_commit_callbacks(execute=True):
        proposal.title = "Another title"
        proposal.save(update_fields=["title"])
        written = calendar_generation()
        assert written is not None and written > start
    committed = calendar_generation()
    assert committed is not None and committed > written


def test_writes_a_feed_does_not_show_keep_the_kept_feed(group: Group, writes: Writes) -> None:
    proposal = proposal_draft(group)
    first = poll(group.drafter)
    proposal.summary = "A summary no calendar shows"
    proposal.save(update_fields=["summary"])
    reference.occasion_update(
        actor=group.secretariat, occasion=group.occasion, changes={"endorsement_quorum": 3}
    )
    assert poll(group.drafter) == first
    assert writes.count == 1
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.DRAFT


def test_a_lost_generation_starts_again_above_every_earlier_one(group: Group) -> None:
    proposal_draft(group)
    before = calendar_generation()
    assert before is not None
    first = poll(group.drafter)
    cache.delete(GENERATION_KEY)
    after = calendar_generation()
    assert after is not None and after > before
    again = poll(group.drafter)  # written again, saying what it said: nothing changed
    assert summaries_and_descriptions(again) == summaries_and_descriptions(first)


def test_a_write_that_changes_nothing_a_feed_shows_reads_it_again_but_writes_no_icalendar(
    group: Group, writes: Writes, django_assert_num_queries: Any
) -> None:
    proposal_draft(group)
    first = poll(group.drafter)
    calendar_generation_bump()  # a write elsewhere in the group
    with django_assert_num_queries(COLD_QUERIES):
        assert poll(group.drafter) == first
    with django_assert_num_queries(WARM_QUERIES):
        assert poll(group.drafter) == first
    assert writes.count == 1


def test_each_time_zone_is_described_once_per_process_and_in_order_of_its_name(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal_draft(group)
    OccasionFactory(name="Tokyo summit", timezone="Asia/Tokyo")
    described: list[str] = []
    from_tzid = icalendar.Timezone.from_tzid

    def counted(tzid: str, **kwargs: Any) -> icalendar.Timezone:
        described.append(tzid)
        return from_tzid(tzid, **kwargs)

    monkeypatch.setattr(icalendar.Timezone, "from_tzid", counted)
    feeds.zone_described.cache_clear()
    for person in (group.secretariat, group.representative_fr):
        calendar = icalendar.Calendar.from_ical(poll(person))
        assert [zone["tzid"] for zone in calendar.walk("VTIMEZONE")] == [
            "America/New_York",
            "Asia/Tokyo",
        ]
        assert calendar.get_missing_tzids() == set()
    assert sorted(described) == ["America/New_York", "Asia/Tokyo"]


def test_feeds_are_folded_as_icalendar_folds_them() -> None:
    """Lines of every length, cut among characters of one to four octets, escapes and
    parameter escapes: the same octets as icalendar's own folding."""
    rng = random.Random(2026)
    alphabet = [*"abc ,;:", "\\", "^", "é", "•", "…", "\u202f", "😀"]
    calendar = icalendar.Calendar()
    for number in range(200):
        event = icalendar.Event()
        event.add("uid", f"event-{number}")
        event.add("summary", "".join(rng.choices(alphabet, k=number)))
        event.add(
            "description", "\n".join("".join(rng.choices(alphabet, k=number * 2)) for _ in "ab")
        )
        event.add("location", "".join(rng.choices(alphabet, k=rng.randint(60, 90))))
        calendar.add_component(event)
    assert feeds.ical_text(calendar) == calendar.to_ical()
