"""The parts of the capabilities and memory benchmarks that need no service: the feed they
serve, the dossier's text, and how the worker's memory is judged flat."""

from __future__ import annotations

from bench.capabilities import dossier_text, feed_ics
from bench.memory import FLAT_GROWTH, fitted_growth, summary
from proposals.calendar_import.events import FeedRules, calendar_events, calendar_parse


def test_the_feed_holds_every_event_and_changes_the_first_ones() -> None:
    rules = FeedRules(deadline_rule="event_end", lead_days=14, default_timezone="UTC")
    first, problems = calendar_events(calendar_parse(feed_ics(40)), rules)
    changed, _problems = calendar_events(calendar_parse(feed_ics(40, changed=4)), rules)
    assert (len(first), problems) == (40, [])
    differing = [uid for uid, (a, b) in enumerate(zip(first, changed, strict=True)) if a != b]
    assert differing == [0, 1, 2, 3]
    assert changed[0].name.endswith("(renamed)") and changed[0].starts_on == first[0].starts_on
    assert (changed[1].submission_deadline - first[1].submission_deadline).days == 7


def test_the_dossier_text_grows_with_its_sections_and_holds_tables() -> None:
    assert len(dossier_text(20)) > 1.9 * len(dossier_text(10))
    assert "| indicator |" in dossier_text(3) and "## 3." in dossier_text(3)


def test_a_line_through_points_gives_its_slope_and_ends() -> None:
    slope, first, last = fitted_growth([(0.0, 10.0), (1.0, 12.0), (2.0, 14.0)])
    assert (round(slope, 6), round(first, 6), round(last, 6)) == (2.0, 10.0, 14.0)


def test_memory_is_flat_when_the_second_half_does_not_grow() -> None:
    # (seconds, KiB, emails sent): it grows while starting, then stays.
    steady = [(float(t), 100_000 + min(t, 5) * 2_000, t * 100) for t in range(0, 21)]
    growing = [(float(t), 100_000 + t * 2_000, t * 100) for t in range(0, 21)]
    assert summary(steady, 2000)["flat"] is True
    leaking = summary(growing, 2000)
    assert leaking["flat"] is False and leaking["second_half_growth"] > FLAT_GROWTH
    assert leaking["start_mib"] < leaking["peak_mib"] == leaking["end_mib"]
