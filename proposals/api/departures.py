"""A person's departure over the API: the plan (GET), recording it (POST, the secretariat), and
a representative's request that the secretariat record it (POST .../request/)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import departures
from proposals.api.serializers import NoticeSerializer, StrictIntegerField, TextField
from proposals.api.views import READ_REFUSALS, WRITE_REFUSALS, ApiViewSet, requester
from proposals.localized import date_text
from proposals.models import Person
from workflow.errors import RefusalKind, Refused


class DeparturePersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class HandoverSerializer(serializers.Serializer):
    """An open proposal the person writes, and who may take it over."""

    proposal = serializers.IntegerField(source="proposal.pk")
    title = serializers.CharField(source="proposal.title")
    state = serializers.CharField(source="proposal.state")
    lead_organization = serializers.IntegerField(source="proposal.lead_organization_id")
    co_authors = DeparturePersonSerializer(
        many=True, help_text="The other authors, who carry on unless someone else is chosen."
    )
    candidates = DeparturePersonSerializer(
        many=True,
        help_text="Who may take it over: its other authors and the drafters of its lead "
        "organisation who stay.",
    )
    needs_successor = serializers.BooleanField(
        help_text="No other author stays: a successor must be chosen."
    )


class DeparturePlanSerializer(serializers.Serializer):
    """What recording this person's departure changes."""

    person = DeparturePersonSerializer()
    left_on = serializers.DateField(
        source="person.left_on",
        allow_null=True,
        help_text="The day of leaving, once recorded; null before.",
    )
    active = serializers.BooleanField(
        source="person.is_active", help_text="False once the departure is carried out."
    )
    handovers = HandoverSerializer(many=True)
    reviews_undecided = serializers.SerializerMethodField(
        help_text="Proposals in review the person had not decided: the other reviewers decide "
        "them (reviewers are not assigned), and reminders to the person stop."
    )
    endorsements_signed = serializers.IntegerField(
        help_text="Endorsements the person signed: they stay valid and keep counting."
    )
    unrepresented_organizations = serializers.SerializerMethodField(
        help_text="Full members that would have no representative left: appoint one."
    )
    warnings = serializers.ListField(child=serializers.CharField())

    def get_reviews_undecided(self, plan: departures.DeparturePlan) -> list[int]:
        return [proposal.pk for proposal in plan.reviews_undecided]

    def get_unrepresented_organizations(self, plan: departures.DeparturePlan) -> list[int]:
        return [organization.pk for organization in plan.unrepresented]


class SuccessorSerializer(serializers.Serializer):
    proposal = StrictIntegerField(help_text="An open proposal the person writes.")
    successor = StrictIntegerField(
        help_text="Who takes it over: another of its authors or a drafter of its lead organisation."
    )


class DepartureRecordSerializer(serializers.Serializer):
    left_on = serializers.DateField(help_text="The last day in the group: today or later.")
    handovers = SuccessorSerializer(
        many=True,
        required=False,
        help_text="Who takes over each open proposal; required for one with no other author.",
    )

    def validate_handovers(self, value: list[dict[str, int]]) -> list[dict[str, int]]:
        proposals = [choice["proposal"] for choice in value]
        if len(set(proposals)) != len(proposals):
            raise serializers.ValidationError(_("Each proposal may be handed over only once."))
        return value


class DepartureRequestSerializer(serializers.Serializer):
    left_on = serializers.DateField(help_text="The last day in the group: today or later.")
    note = TextField(required=False, allow_blank=True, max_length=2000)


class PersonDepartureViewSet(ApiViewSet):
    """The departure of one person (`person_id`)."""

    serializer_class = DeparturePlanSerializer

    def person(self) -> Person:
        return get_object_or_404(Person, pk=self.kwargs["person_id"])

    def _plan_response(self, person: Person, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(
            DeparturePlanSerializer(departures.departure_plan(person)).data, status=status_code
        )

    @extend_schema(responses={200: DeparturePlanSerializer, **READ_REFUSALS})
    def retrieve(self, request: Request, person_id: int) -> Response:
        """The plan of the person's departure (the secretariat): the open proposals to hand
        over with who may take each, the reviews they had not decided, the endorsements that
        stay, and warnings (an organisation left with no representative)."""
        person = self.person()
        reasons = departures.departure_permission_reasons(requester(request), person)
        if reasons:
            raise Refused(RefusalKind.PERMISSION, reasons)
        return self._plan_response(person)

    @extend_schema(
        request=DepartureRecordSerializer,
        responses={201: DeparturePlanSerializer, **WRITE_REFUSALS},
    )
    def create(self, request: Request, person_id: int) -> Response:
        """Record the person's departure (the secretariat): on `left_on` (at once if today)
        their roles end, their account, tokens and calendar link stop working, and each
        proposal in `handovers` passes to its successor (who becomes an author now). A proposal
        with no other author must be handed over; 409 if the departure is already recorded."""
        person = self.person()
        serializer = DepartureRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        departures.departure_record(
            **self.writer(),
            person=person,
            left_on=serializer.validated_data["left_on"],
            successors={
                choice["proposal"]: choice["successor"]
                for choice in serializer.validated_data.get("handovers", [])
            },
        )
        return self._plan_response(self.person(), status.HTTP_201_CREATED)

    @extend_schema(
        request=DepartureRequestSerializer,
        responses={202: NoticeSerializer, **WRITE_REFUSALS},
    )
    def ask(self, request: Request, person_id: int) -> Response:
        """A representative of the person's organisation asks the secretariat to record their
        departure: the secretariat is emailed; nothing changes until it records it."""
        person = self.person()
        serializer = DepartureRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        departures.departure_request(
            actor=requester(request),
            person=person,
            left_on=serializer.validated_data["left_on"],
            note=serializer.validated_data.get("note", ""),
            request=request._request,
        )
        detail = _(
            "The secretariat is told that %(person)s leaves on %(date)s; it records the "
            "departure and hands their drafts over."
        ) % {"person": person, "date": date_text(serializer.validated_data["left_on"])}
        return Response({"detail": detail, "reasons": [detail]}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path(
        "people/<int:person_id>/departure/",
        PersonDepartureViewSet.as_view({"get": "retrieve", "post": "create"}),
        name="person-departure",
    ),
    path(
        "people/<int:person_id>/departure/request/",
        PersonDepartureViewSet.as_view({"post": "ask"}),
        name="person-departure-request",
    ),
]
