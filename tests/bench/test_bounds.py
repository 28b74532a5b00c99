"""The pages' lower bounds read the lifecycle's declarations and check their output against the
system's: every declared predicate has its hand-written check, and a difference is found."""

from __future__ import annotations

import pytest

from bench.pages import CHECKS, declared_checks, json_differences, page_facts, same_page
from proposals.lifecycle import TRANSITIONS


def test_every_predicate_the_lifecycle_declares_has_a_hand_written_check() -> None:
    declared = {
        check.__qualname__
        for action in TRANSITIONS.values()
        for check in (*action.who, *action.when)
    }
    assert declared <= set(CHECKS)
    assert [name for name, _sources, _checks in declared_checks()] == list(TRANSITIONS)


def test_json_differences_name_the_path_of_each_difference() -> None:
    system = {"results": [{"id": 1, "transitions": ["approve"]}], "count": 1}
    bound = {"results": [{"id": 1, "transitions": []}], "count": 1}
    assert json_differences(system, bound) == [
        ".results[0].transitions: 1 items in the system, 0 in the bound"
    ]
    assert json_differences(system, system) == []


def test_a_page_and_its_bound_must_show_the_same_proposals_actions_and_counts() -> None:
    page = b'<a href="/proposals/new/">New</a><h2>Drafts <span class="count">2</span></h2>'
    page += b'<a href="/proposals/7/">A</a><a href="/proposals/9/">B</a>'
    assert page_facts(page) == {"links": ["new", "7", "9"], "counts": ["2"]}
    assert same_page(page, page)["equal"]
    reordered = page.replace(b"/proposals/7/", b"/proposals/x/").replace(
        b"/proposals/9/", b"/proposals/7/"
    )
    with pytest.raises(RuntimeError, match="does not show what the page shows"):
        same_page(page, reordered)
