"""The admin writes through the domain's services, which audit each write.

A model admin names the services of its model (`Writes`); saving a form, deleting one object,
deleting a selection and saving inline rows of the same model call them with the person at
the keyboard. The admin's forms only validate. A refusal of a service comes back as messages
on the same page, and nothing of that save is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from workflow.errors import Refused

REFUSED = "_admin_write_refused"


@dataclass(frozen=True)
class Writes:
    """The services that create, change and delete one model, and the fields they take.

    `name` is the keyword that names the object for the update and delete services
    (`organization_update(organization=...)`).
    """

    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    delete: Callable[..., None]
    name: str
    fields: tuple[str, ...]


def values_of(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def take_saved(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's instance the row the service saved (its id and stored values)."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ServiceWritesAdmin(admin.ModelAdmin):
    """A model admin whose writes go through the services named in `writes`."""

    writes: ClassVar[Writes]

    def write_arguments(self, request: HttpRequest, form: Any) -> dict[str, Any]:
        """What the update service takes besides the changes (a reason, for instance)."""
        return {}

    def _refused(self, request: HttpRequest, refusal: Refused) -> None:
        setattr(request, REFUSED, True)
        for reason in refusal.reasons:
            messages.error(request, reason)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        writes = self.writes
        try:
            if change:
                changes = {
                    name: getattr(obj, name) for name in form.changed_data if name in writes.fields
                }
                saved = writes.update(
                    actor=request.user,
                    request=request,
                    changes=changes,
                    **{writes.name: obj},
                    **self.write_arguments(request, form),
                )
            else:
                saved = writes.create(
                    actor=request.user, request=request, **values_of(obj, writes.fields)
                )
        except Refused as refusal:
            self._refused(request, refusal)
            if change:
                obj.refresh_from_db()
            return
        take_saved(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if getattr(request, REFUSED, False):
            for formset in formsets:  # the admin's change message reads what they saved
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_related(request, form, formsets, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows of the admin's own model (an organisation's parts) go through the same
        services; other inlines save as they do."""
        if formset.model is not self.model:
            super().save_formset(request, form, formset, change)
            return
        writes = self.writes
        formset.save(commit=False)  # fills new, changed and deleted objects; writes nothing
        for obj in formset.deleted_objects:
            writes.delete(actor=request.user, request=request, **{writes.name: obj})
        for obj in formset.new_objects:
            saved = writes.create(
                actor=request.user, request=request, **values_of(obj, writes.fields)
            )
            take_saved(obj, saved)
        for obj, changed in formset.changed_objects:
            writes.update(
                actor=request.user,
                request=request,
                changes={name: getattr(obj, name) for name in changed if name in writes.fields},
                **{writes.name: obj},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.writes.delete(actor=request.user, request=request, **{self.writes.name: obj})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Each selected row through the delete service, all of them or none."""
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, REFUSED, False):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, REFUSED, False):
            return None
        return super().log_change(request, obj, message)

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        if getattr(request, REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if getattr(request, REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
