"""The API's views: thin; the serializers validate, the services and rules decide and act."""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, routers, status, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotAcceptable
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import get_object_or_404  # an id that is no number is a 404
from rest_framework.metadata import BaseMetadata
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import filtersets as filters
from proposals import notifications, people, reference, services
from proposals.accounts import recent_confirmation_check, two_factor_verified
from proposals.api import serializers
from proposals.api.authentication import ApiTokenAuthentication, VerifiedSessionAuthentication
from proposals.api.conditional import (
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    if_match_version,
    precondition_kept,
    proposal_response,
)
from proposals.api.errors import (
    api_exception_handler,
    error_code_ensured,
    refusal_body,
    refusals,
)
from proposals.api.languages import language_asked_activate
from proposals.api.parsers import BoundedJSONParser
from proposals.api.permissions import ReadByGroupWriteBySecretariat
from proposals.api.renderers import CSVRenderer
from proposals.api.schema import ApiMetadata
from proposals.diff import revisions_diff
from proposals.exports import proposals_csv_response
from proposals.lifecycle import TRANSITIONS, transition_options_for
from proposals.models import (
    Body,
    Endorsement,
    Membership,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    Review,
    Revision,
)
from proposals.preferences import preferences_activate
from proposals.records import AuditEvent, TransitionLog, proposal_history
from proposals.security import security_events_visible_to
from proposals.selectors import (
    proposals_visible_to,
    proposals_with_rule_data,
    proposals_with_rule_data_by_ids,
    proposals_with_rule_facts,
    rule_facts_kept,
)
from workflow.errors import UnknownTransition

READ_REFUSALS = refusals(401, 403, 404)
LIST_REFUSALS = refusals(400, 401, 403, 404)
WRITE_REFUSALS = refusals(400, 401, 403, 404, 409)
CONDITIONAL_WRITE_REFUSALS = refusals(400, 401, 403, 404, 409, 412)


def requester(request: Request) -> Person:
    return cast(Person, request.user)


class ApiConventions:
    """One shape of refusal, answers in the requester's own language and time zone, and JSON
    errors even where CSV was asked for."""

    metadata_class: str | type[BaseMetadata] | None = ApiMetadata

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def perform_authentication(self, request: Request) -> None:
        """Once the requester is known (by token too), speak their language, in their zone;
        an explicit Accept-Language wins over the saved language."""
        super().perform_authentication(request)  # type: ignore[misc]
        if request.user.is_authenticated:
            preferences_activate(request._request, request.user, switcher_wins=False)
            language_asked_activate(request._request)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """An Accept header that nothing here satisfies is refused (406) in the requester's
        language: the requester is known before the refusal is written."""
        try:
            return super().perform_content_negotiation(request, force)  # type: ignore[misc]
        except NotAcceptable:
            try:
                self.perform_authentication(request)
            except APIException:
                pass
            raise

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(response, "exception", False) and isinstance(renderer, CSVRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = error_code_ensured(response)
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


AUTHENTICATION_CLASSES: list[type[BaseAuthentication]] = [
    ApiTokenAuthentication,
    VerifiedSessionAuthentication,
]


class ApiViewSet(ApiConventions, viewsets.GenericViewSet):
    """The base of every viewset: token (401 without one) or session, JSON in, filters."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes: list[type[BasePermission]] = [IsAuthenticated]
    parser_classes: list[type[BaseParser]] = [BoundedJSONParser]
    filter_backends: list[type[BaseFilterBackend]] = [DjangoFilterBackend]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Lists are filtered by their query parameters; an address that names one object finds
        it by its id alone, among what the requester may see (get_queryset), without building
        the list's filter set (about a sixth of a small object's time)."""
        if self.kwargs.get(self.lookup_url_kwarg or self.lookup_field) is not None:
            return queryset
        return super().filter_queryset(queryset)

    def writer(self) -> dict[str, Any]:
        """Who writes, as the services take it: the actor and the request (for its address)."""
        return {"actor": requester(self.request), "request": self.request._request}


class ApiRootView(ApiConventions, routers.APIRootView):
    """The API's entry point: links to every list."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes: list[type[BasePermission]] = [IsAuthenticated]


class ApiRouter(routers.DefaultRouter):
    APIRootView = ApiRootView
    include_format_suffixes = False


# Reference data


class ReferenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ApiViewSet,
):
    """Read by every person of the group, written by the secretariat."""

    permission_classes: list[type[BasePermission]] = [ReadByGroupWriteBySecretariat]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self.get_serializer(self.get_object()).data)

    # The serializer validates; a service of proposals.reference or proposals.people writes.

    def perform_create(self, serializer: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} creates through a service.")

    def perform_update(self, serializer: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} changes through a service.")


class DeletableReferenceViewSet(mixins.DestroyModelMixin, ReferenceViewSet):
    """Reference data that the secretariat may also delete while nothing uses it (else 409)."""

    def perform_destroy(self, instance: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} deletes through a service.")


def reference_schema(serializer_class: type, *, destroy: bool = True) -> Any:
    """Schema of a reference viewset: its serializer for 2xx, the refusals for the rest."""
    documented = {
        "list": extend_schema(responses={200: serializer_class(many=True), **LIST_REFUSALS}),
        "retrieve": extend_schema(responses={200: serializer_class, **READ_REFUSALS}),
        "create": extend_schema(responses={201: serializer_class, **WRITE_REFUSALS}),
        "partial_update": extend_schema(responses={200: serializer_class, **WRITE_REFUSALS}),
    }
    if destroy:
        documented["destroy"] = extend_schema(responses={204: None, **WRITE_REFUSALS})
    return extend_schema_view(**documented)


@reference_schema(serializers.OrganizationSerializer)
class OrganizationViewSet(DeletableReferenceViewSet):
    """The group's member, observer and former organisations, and their agencies."""

    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    filterset_class = filters.OrganizationFilter

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = reference.organization_create(
            **self.writer(), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = reference.organization_update(
            **self.writer(), organization=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: Organization) -> None:
        reference.organization_delete(**self.writer(), organization=instance)


@reference_schema(serializers.PersonSerializer, destroy=False)
class PersonViewSet(ReferenceViewSet):
    """People and the organisations they act for, with their roles."""

    serializer_class = serializers.PersonSerializer
    filterset_class = filters.PersonFilter
    queryset = Person.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("organization"))
    )

    def perform_create(self, serializer: Any) -> None:
        changes = serializer.profile_changes()
        serializer.instance = people.person_create(
            actor=requester(self.request),
            username=changes.pop("username"),
            email=changes.pop("email", ""),
            roles=serializer.role_pairs() or (),
            request=self.request._request,
            **changes,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = people.person_update(
            actor=requester(self.request),
            person=serializer.instance,
            changes=serializer.profile_changes(),
            roles=serializer.role_pairs(),
            two_factor_verified=two_factor_verified(self.request),
            request=self.request._request,
        )

    @extend_schema(
        request=serializers.EmailChangeSerializer,
        responses={202: serializers.NoticeSerializer, **WRITE_REFUSALS},
    )
    @action(
        detail=False, methods=["post"], url_path="me/email", permission_classes=[IsAuthenticated]
    )
    def email_change(self, request: Request) -> Response:
        """Ask to change your own email address: a link goes to the new address, and your
        current address is told; the address changes when the link is opened."""
        serializer = serializers.EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        people.email_change_request(
            person=requester(request),
            new_email=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
            request=request._request,
        )
        detail = _(
            "We sent a link to %(email)s: your address changes when you open it, signed in."
        ) % {"email": serializer.validated_data["email"]}
        return Response({"detail": detail, "reasons": [detail]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=serializers.EmailChangeConfirmSerializer,
        responses={200: serializers.PersonSerializer, **WRITE_REFUSALS},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="me/email/confirm",
        permission_classes=[IsAuthenticated],
    )
    def email_change_confirm(self, request: Request) -> Response:
        """Confirm a change of your email address with the token of the link sent to it."""
        serializer = serializers.EmailChangeConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = people.email_change_confirm(
            token=serializer.validated_data["token"],
            person=requester(request),
            request=request._request,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(
        methods=["GET"],
        responses={200: serializers.NotificationChoiceSerializer(many=True), **READ_REFUSALS},
    )
    @extend_schema(
        methods=["PUT", "PATCH"],
        request={"application/json": serializers.NOTIFICATION_CHOICES_REQUEST},
        responses={200: serializers.NotificationChoiceSerializer(many=True), **WRITE_REFUSALS},
    )
    @action(
        detail=False,
        methods=["get", "put", "patch"],
        url_path="me/notifications",
        url_name="notifications",
        permission_classes=[IsAuthenticated],
        pagination_class=None,
        filter_backends=[],
    )
    def notification_choices(self, request: Request) -> Response:
        """The kinds of optional email you may turn off (news of the proposals you wrote that
        does not ask you to act), and whether you get each. PUT and PATCH both change only the
        kinds they name, given as {"proposal.approved": false} or as a list of {"event",
        "enabled"}; a kind that cannot be turned off is a 400. Emails that ask you to act,
        reminders and security notices always come; turning off optional_notifications stops
        all of these at once."""
        person = requester(request)
        if request.method == "GET":
            choices = notifications.notification_choices_of(person)
        else:
            choices = notifications.notification_choices_set(
                person=person,
                wanted=serializers.notification_wanted(request.data),
                actor=person,
                request=request._request,
            )
        return Response(serializers.NotificationChoiceSerializer(choices, many=True).data)


@reference_schema(serializers.PresidencyTermSerializer)
class PresidencyTermViewSet(DeletableReferenceViewSet):
    """The States that chair or chaired the group, term by term."""

    queryset = PresidencyTerm.objects.all()
    serializer_class = serializers.PresidencyTermSerializer
    filterset_class = filters.PresidencyTermFilter

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = reference.presidency_create(
            **self.writer(), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = reference.presidency_update(
            **self.writer(), term=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: PresidencyTerm) -> None:
        reference.presidency_delete(**self.writer(), term=instance)


@reference_schema(serializers.BodySerializer)
class BodyViewSet(DeletableReferenceViewSet):
    """Where proposals are addressed: parliaments, ministries, UN organs."""

    queryset = Body.objects.all()
    serializer_class = serializers.BodySerializer
    filterset_class = filters.BodyFilter

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = reference.body_create(**self.writer(), **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = reference.body_update(
            **self.writer(), body=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: Body) -> None:
        reference.body_delete(**self.writer(), body=instance)


@reference_schema(serializers.OccasionSerializer)
class OccasionViewSet(DeletableReferenceViewSet):
    """Occasions and their deadlines; a change of `submission_deadline` is a recorded move."""

    queryset = Occasion.objects.all()
    serializer_class = serializers.OccasionSerializer
    filterset_class = filters.OccasionFilter

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("deadline_change_reason", None)
        serializer.instance = reference.occasion_create(**self.writer(), **data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        reason = data.pop("deadline_change_reason", "")
        serializer.instance = reference.occasion_update(
            **self.writer(),
            occasion=serializer.instance,
            changes=data,
            deadline_change_reason=reason,
        )

    def perform_destroy(self, instance: Occasion) -> None:
        reference.occasion_delete(**self.writer(), occasion=instance)


# Proposals


PROPOSAL_LIST_RESPONSES = {
    (200, "application/json"): serializers.ProposalSerializer(many=True),
    (200, "text/csv"): OpenApiResponse(
        OpenApiTypes.STR, description="With ?format=csv: every matching row, not paginated."
    ),
    **LIST_REFUSALS,
}


@extend_schema_view(
    list=extend_schema(
        responses=PROPOSAL_LIST_RESPONSES,
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv"],
                description="csv: every matching row as CSV, not paginated.",
            )
        ],
    ),
    retrieve=extend_schema(
        parameters=[IF_NONE_MATCH, ETAG_HEADER],
        responses={200: serializers.ProposalSerializer, **NOT_MODIFIED, **LIST_REFUSALS},
    ),
    create=extend_schema(
        parameters=[ETAG_HEADER],
        responses={201: serializers.ProposalSerializer, **WRITE_REFUSALS},
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER],
        responses={200: serializers.ProposalSerializer, **CONDITIONAL_WRITE_REFUSALS},
    ),
)
class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Proposals the requester can see; an invisible one is not found (404)."""

    queryset = Proposal.objects.none()
    serializer_class = serializers.ProposalSerializer
    filterset_class = filters.ProposalFilter

    def get_queryset(self) -> QuerySet[Proposal]:
        return proposals_with_rule_data_by_ids(proposals_visible_to(self.request.user))

    def get_renderers(self) -> list[BaseRenderer]:
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            renderers.append(CSVRenderer())
        return renderers

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if isinstance(request.accepted_renderer, CSVRenderer):
            visible = proposals_visible_to(request.user).select_related(
                "lead_organization", "target_body", "occasion"
            )
            queryset = self.filter_queryset(visible.prefetch_related("authors", "themes"))
            return proposals_csv_response(queryset, filename="proposals.csv")
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = serializers.ProposalSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        proposal = services.proposal_create(
            author=requester(request), **serializer.service_arguments()
        )
        fresh = proposals_with_rule_data_by_ids().get(pk=proposal.pk)
        data = self.get_serializer(fresh).data
        return proposal_response(request, fresh.version, data, status_code=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The proposal, with its ETag; 304 without a body when If-None-Match names it. The
        proposal and everything the rules read are one query (`proposals_with_rule_facts`)."""
        visible = proposals_with_rule_facts(proposals_visible_to(request.user))
        proposal = rule_facts_kept(get_object_or_404(visible, pk=kwargs[self.lookup_field]))
        self.check_object_permissions(request, proposal)
        return proposal_response(request, proposal.version, self.get_serializer(proposal).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit a draft: 412 if If-Match names an older version, 409 if `expected_revision`
        names an older revision."""
        proposal = self.get_object()
        seen_version = if_match_version(request, proposal.version)
        serializer = serializers.ProposalSerializer(
            proposal, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        with precondition_kept(request):
            updated = services.proposal_update(
                proposal=proposal,
                editor=requester(request),
                seen_version=seen_version,
                **serializer.service_arguments(),
            )
        return proposal_response(request, updated.version, self.get_serializer(updated).data)


class ProposalChildViewSet(ApiViewSet):
    """Views under /api/proposals/{proposal_id}/: the proposal must be visible, or it is a 404."""

    needs_rule_data = False

    @cached_property
    def proposal(self) -> Proposal:
        """The proposal, if the requester sees it; with what the rules read only when asked
        (the services re-read it under a row lock anyway)."""
        visible = proposals_visible_to(self.request.user)
        if self.needs_rule_data:
            visible = proposals_with_rule_data(visible)
        return get_object_or_404(visible, pk=self.kwargs["proposal_id"])

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.proposal  # noqa: B018 (an invisible proposal is a 404 before anything else)

    def proposal_data(self, proposal: Proposal) -> dict[str, Any]:
        fresh = proposals_with_rule_data_by_ids().get(pk=proposal.pk)
        return serializers.ProposalSerializer(fresh, context={"request": self.request}).data

    def proposal_answer(self, proposal: Proposal) -> Response:
        """The proposal as it is now, with its ETag."""
        data = self.proposal_data(proposal)
        return proposal_response(self.request, data["version"], data)

    def seen_version(self, request: Request) -> int | None:
        """The version If-Match names, which must be the proposal's current one (else 412);
        None without If-Match."""
        return if_match_version(request, self.proposal.version)


TRANSITION_NAME = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    enum=list(TRANSITIONS),
    description="The transition to run.",
)


class ProposalTransitionViewSet(ProposalChildViewSet):
    """The transitions of one proposal, as the requester may run them now."""

    pagination_class = None
    filter_backends: list[type[BaseFilterBackend]] = []
    serializer_class = serializers.TransitionOptionSerializer

    @property
    def needs_rule_data(self) -> bool:  # type: ignore[override]
        return self.action == "list"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if self.action != "run":
            super().initial(request, *args, **kwargs)
            return
        # A run reads the proposal, its visibility and what the rules read in the row lock's
        # query: an invisible proposal is a 404 there, and before its input is judged.
        ApiViewSet.initial(self, request, *args, **kwargs)

    @extend_schema(
        responses={200: serializers.TransitionOptionSerializer(many=True), **READ_REFUSALS}
    )
    def list(self, request: Request, proposal_id: int) -> Response:
        """Every transition: whether the requester can run it now, and if not, why."""
        options = transition_options_for(self.proposal, request.user)
        return Response(serializers.TransitionOptionSerializer(options, many=True).data)

    @extend_schema(
        request=serializers.TransitionInputSerializer,
        parameters=[TRANSITION_NAME, IF_MATCH, ETAG_HEADER],
        responses={200: serializers.ProposalSerializer, **CONDITIONAL_WRITE_REFUSALS},
    )
    def run(self, request: Request, proposal_id: int, name: str) -> Response:
        """Run one transition: 403 if this person may never, 409 if not now or if the proposal
        changed since the `version` sent, 412 if it changed since the ETag of If-Match, 400 on
        bad input."""
        if name not in TRANSITIONS:
            self.proposal  # noqa: B018 (an invisible proposal is a 404 first)
            raise UnknownTransition(name)
        # With If-Match, its version is compared with the proposal read now (else 412).
        seen_version = self.seen_version(request) if "If-Match" in request.headers else None
        serializer = serializers.TransitionInputSerializer(data=request.data)
        if not serializer.is_valid():
            self.proposal  # noqa: B018 (an invisible proposal is a 404 first)
            serializer.is_valid(raise_exception=True)
        body_version = serializer.seen_version()
        try:
            with precondition_kept(request):
                result = services.proposal_transition_run(
                    proposal=Proposal(pk=proposal_id),
                    name=name,
                    actor=request.user,
                    comment=serializer.validated_data.get("comment", ""),
                    arguments=serializer.arguments(),
                    seen_version=body_version if body_version is not None else seen_version,
                    seen_state=services.STATE_NOT_SEEN,
                    only_if_visible=True,
                )
        except Proposal.DoesNotExist:
            raise Http404 from None
        # The proposal the transition ran on holds its writes: the answer reads nothing again.
        data = serializers.ProposalSerializer(result.obj, context={"request": request}).data
        return proposal_response(request, data["version"], data)


@extend_schema_view(
    list=extend_schema(
        responses={200: serializers.EndorsementSerializer(many=True), **LIST_REFUSALS}
    ),
    create=extend_schema(
        request=serializers.EndorsementCreateSerializer,
        parameters=[IF_MATCH],
        responses={201: serializers.EndorsementSerializer, **CONDITIONAL_WRITE_REFUSALS},
    ),
    destroy=extend_schema(
        parameters=[IF_MATCH], responses={204: None, **CONDITIONAL_WRITE_REFUSALS}
    ),
)
class ProposalEndorsementViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, ProposalChildViewSet
):
    """Endorsements of one proposal, withdrawn ones included (their history is kept)."""

    queryset = Endorsement.objects.none()
    serializer_class = serializers.EndorsementSerializer

    def get_queryset(self) -> QuerySet[Endorsement]:
        return Endorsement.objects.filter(proposal=self.proposal).select_related(
            "organization", "endorsed_by", "withdrawn_by"
        )

    def create(self, request: Request, proposal_id: int) -> Response:
        """The requester's organisation endorses the proposal (409 if it already does, or if the
        proposal changed since the `version` sent; 412 if it changed since the proposal's ETag
        sent in If-Match)."""
        seen_version = self.seen_version(request)
        serializer = serializers.EndorsementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.endorsement_check(
            proposal=self.proposal,
            person=requester(request),
            organization=serializer.validated_data.get("organization"),
        )
        recent_confirmation_check(
            request,
            password=serializer.validated_data.get("password", ""),
            code=serializer.validated_data.get("otp", ""),
        )
        body_version = serializer.validated_data.get("version")
        with precondition_kept(request):
            endorsement = services.endorsement_create(
                proposal=self.proposal,
                person=requester(request),
                organization=serializer.validated_data.get("organization"),
                seen_version=body_version if body_version is not None else seen_version,
            )
        endorsement = self.get_queryset().get(pk=endorsement.pk)
        return Response(self.get_serializer(endorsement).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Endorsement) -> None:
        """The endorsement is withdrawn: it stops counting, and its row stays as history (412
        if the proposal changed since its ETag sent in If-Match)."""
        seen_version = self.seen_version(self.request)
        with precondition_kept(self.request):
            services.endorsement_withdraw(
                endorsement=instance, person=requester(self.request), seen_version=seen_version
            )


@extend_schema_view(
    list=extend_schema(responses={200: serializers.ReviewSerializer(many=True), **LIST_REFUSALS})
)
class ProposalReviewViewSet(mixins.ListModelMixin, ProposalChildViewSet):
    """Reviewers' decisions on the proposal's revisions, oldest first."""

    queryset = Review.objects.none()
    serializer_class = serializers.ReviewSerializer

    def get_queryset(self) -> QuerySet[Review]:
        return Review.objects.filter(proposal=self.proposal).select_related("revision", "reviewer")


@extend_schema_view(
    list=extend_schema(responses={200: serializers.RevisionSerializer(many=True), **LIST_REFUSALS}),
    retrieve=extend_schema(responses={200: serializers.RevisionSerializer, **READ_REFUSALS}),
)
class ProposalRevisionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ProposalChildViewSet
):
    """Every saved text of the proposal, from revision 1."""

    queryset = Revision.objects.none()
    serializer_class = serializers.RevisionSerializer
    lookup_field = "number"

    def get_queryset(self) -> QuerySet[Revision]:
        return (
            Revision.objects.filter(proposal=self.proposal)
            .select_related("author")
            .order_by("number")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, description="Older revision (default: to − 1)."),
            OpenApiParameter("to", int, description="Newer revision (default: the current one)."),
        ],
        responses={200: serializers.RevisionDiffSerializer, **LIST_REFUSALS},
    )
    def diff(self, request: Request, proposal_id: int) -> Response:
        """Unified diff lines of title, summary and text between two revisions."""
        query = serializers.RevisionDiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        to_number = query.validated_data.get("to", self.proposal.revision)
        from_number = query.validated_data.get("from", max(1, to_number - 1))
        revisions = {
            r.number: r for r in self.get_queryset().filter(number__in=[from_number, to_number])
        }
        missing = {
            name: [
                _("This proposal has no revision %(number)s; it has revisions 1 to %(last)s.")
                % {"number": number, "last": self.proposal.revision}
            ]
            for name, number in (("from", from_number), ("to", to_number))
            if number not in revisions
        }
        if missing:
            reasons = [message for messages in missing.values() for message in messages]
            return Response(
                refusal_body(
                    reasons,
                    errors=missing,
                    code="validation_error",
                    reason_codes=["does_not_exist"] * len(reasons),
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        lines = revisions_diff(revisions[from_number], revisions[to_number])
        return Response({"from": from_number, "to": to_number, "fields": lines})


@extend_schema_view(
    list=extend_schema(responses={200: serializers.history_entry_schema(), **LIST_REFUSALS})
)
class ProposalHistoryViewSet(mixins.ListModelMixin, ProposalChildViewSet):
    """The proposal's transition log, oldest first: who did what, when, from which state."""

    queryset = TransitionLog.objects.none()
    serializer_class = serializers.HistoryEntrySerializer

    def get_queryset(self) -> QuerySet[TransitionLog]:
        return proposal_history(self.proposal).order_by("at", "id")


@extend_schema_view(
    list=extend_schema(
        tags=["auth"],
        responses={200: serializers.SecurityEventSerializer(many=True), **LIST_REFUSALS},
    )
)
class SecurityEventViewSet(mixins.ListModelMixin, ApiViewSet):
    """Security events: every one for the secretariat, one's own for everyone else."""

    queryset = AuditEvent.objects.none()
    serializer_class = serializers.SecurityEventSerializer
    filterset_class = filters.SecurityEventFilter

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return security_events_visible_to(self.request.user)
