"""The group's page, and how the workflow works (drawn from the state machine and the
lifecycle's declarations)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from proposals.departures import people_represented_by
from proposals.lifecycle import (
    TRANSITIONS,
    transition_edges,
)
from proposals.models import (
    Membership,
    Organization,
    PresidencyTerm,
    ProposalState,
    Role,
)
from proposals.selectors import presidency_current
from proposals.web.views.common import PersonRequest

# The group


@login_required
def group_page(request: PersonRequest) -> HttpResponse:
    """Organisations by kind and status, the presidency now and before, the secretariat."""
    organizations = Organization.objects.select_related("parent").order_by("name")
    kinds: dict[str, dict[str, list[Organization]]] = {
        kind.value: {status.value: [] for status in Organization.Status}
        for kind in Organization.Kind
    }
    for organization in organizations:
        kinds[organization.kind][organization.status].append(organization)
    terms = list(PresidencyTerm.objects.select_related("organization").order_by("-starts_on"))
    current = presidency_current()
    secretariat_people = Membership.objects.filter(
        role=Role.SECRETARIAT, organization__is_secretariat=True
    ).select_related("person", "organization")
    return render(
        request,
        "proposals/group.html",
        {
            "kinds": [
                (
                    Organization.Kind(kind).label,
                    [
                        (Organization.Status(status).label, status, members)
                        for status, members in statuses.items()
                        if members
                    ],
                )
                for kind, statuses in kinds.items()
                if any(statuses.values())
            ],
            "current": current,
            "terms": terms,
            "secretariat": next((o for o in organizations if o.is_secretariat), None),
            "secretariat_people": secretariat_people,
            "people_represented": people_represented_by(request.user),
        },
    )


# How the workflow works

BOX_WIDTH, BOX_HEIGHT, ROW_GAP = 240, 52, 120
MAIN_X, SIDE_X, TOP = 230, 600, 40


def workflow_diagram() -> dict[str, Any]:
    """An SVG layout of the proposal's state machine, computed from its declared transitions.

    States that are reached from several states by one transition (withdraw) go to a side
    column; the others stand in one column in their declared order, with forward edges down,
    edges back on the left, and a transition that may stay in its state as a loop.
    """
    edges = transition_edges()
    sources_of: dict[str, set[str]] = defaultdict(set)
    for source, name, _target in edges:
        sources_of[name].add(source)
    side = {target for _s, name, target in edges if len(sources_of[name]) > 1}
    order = [state.value for state in ProposalState]
    main = [state for state in order if state not in side]
    labels = dict(ProposalState.choices)
    nodes: dict[str, dict[str, Any]] = {}
    for row, state in enumerate(main):
        nodes[state] = {"x": MAIN_X, "y": TOP + row * ROW_GAP}
    for state in sorted(side, key=order.index):
        rows = [main.index(s) for _s2, name, t in edges if t == state for s in [_s2] if s in main]
        middle = (min(rows) + max(rows)) / 2 if rows else 0
        nodes[state] = {"x": SIDE_X, "y": TOP + middle * ROW_GAP}
    for state, node in nodes.items():
        node.update(
            state=state,
            label=str(labels.get(state, state)),
            cx=node["x"] + BOX_WIDTH / 2,
            cy=node["y"] + BOX_HEIGHT / 2,
            width=BOX_WIDTH,
            height=BOX_HEIGHT,
        )
    drawn: list[dict[str, Any]] = []
    labelled_side: set[str] = set()
    back = 0
    for source, name, target in edges:
        label = str(TRANSITIONS[name].label)
        a, b = nodes[source], nodes[target]
        if target in side:
            path = (
                f"M{a['x'] + BOX_WIDTH},{a['cy']} "
                f"C{a['x'] + BOX_WIDTH + 60},{a['cy']} {b['x'] - 60},{b['cy']} {b['x']},{b['cy']}"
            )
            first = name not in labelled_side
            labelled_side.add(name)
            drawn.append(
                {
                    "path": path,
                    "label": label if first else "",
                    "lx": b["cx"],
                    "ly": b["y"] - 12,
                    "anchor": "middle",
                    "kind": "side",
                }
            )
        elif source == target:
            x, y = a["x"], a["cy"] + 10
            path = f"M{x},{y} C{x - 70},{y + 40} {x - 70},{y - 30} {x},{y - 4}"
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": x - 62,
                    "ly": y + 34,
                    "anchor": "end",
                    "kind": "loop",
                }
            )
        elif main.index(target) == main.index(source) + 1:
            path = f"M{a['cx']},{a['y'] + BOX_HEIGHT} L{b['cx']},{b['y'] - 2}"
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": a["cx"] + 10,
                    "ly": (a["y"] + BOX_HEIGHT + b["y"]) / 2 + 5,
                    "anchor": "start",
                    "kind": "forward",
                }
            )
        else:
            back += 1
            offset = 60 + back * 30
            path = (
                f"M{a['x']},{a['cy'] - 12} C{a['x'] - offset},{a['cy'] - 12} "
                f"{b['x'] - offset},{b['cy'] + 12} {b['x'] - 2},{b['cy'] + 12}"
            )
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": a["x"] - offset + 8,
                    "ly": (a["cy"] + b["cy"]) / 2 + 4,
                    "anchor": "end",
                    "kind": "back",
                }
            )
    height = max(node["y"] for node in nodes.values()) + BOX_HEIGHT + TOP
    return {
        "nodes": list(nodes.values()),
        "edges": drawn,
        "width": SIDE_X + BOX_WIDTH + 20,
        "height": height,
    }


def _declared_rank(name: str) -> int:
    """Transitions in the order the lifecycle declares them."""
    names = list(TRANSITIONS)
    return names.index(name) if name in names else len(names)


@login_required
def workflow_page(request: PersonRequest) -> HttpResponse:
    """The lifecycle of a proposal, drawn from the state machine, and who may do what."""
    labels = dict(ProposalState.choices)
    rows: dict[str, dict[str, Any]] = {}
    for source, name, target in transition_edges():
        row = rows.setdefault(
            name,
            {
                "name": name,
                "label": TRANSITIONS[name].label,
                "sources": [],
                "targets": [],
                "who": TRANSITIONS[name].help_text,
            },
        )
        if labels[source] not in row["sources"]:
            row["sources"].append(labels[source])
        if labels[target] not in row["targets"] and target != source:
            row["targets"].append(labels[target])
    return render(
        request,
        "proposals/workflow.html",
        {
            "diagram": workflow_diagram(),
            "rows": sorted(rows.values(), key=lambda row: _declared_rank(row["name"])),
        },
    )
