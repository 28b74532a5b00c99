"""How a view declares that it takes request bodies larger than the global limit (an upload):
read by config.request_body's middleware. Importing nothing of the project, it may be used by
every face."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

LIMIT_ATTRIBUTE = "request_body_max_bytes"
View = TypeVar("View", bound=Callable[..., Any])


def request_body_limit(max_bytes: int | Callable[[], int]) -> Callable[[View], View]:
    """Let the view (a function, or a view or viewset class) take bodies of up to `max_bytes`
    (a number, or a function that reads it from the settings at each request)."""

    def declare(view: View) -> View:
        setattr(view, LIMIT_ATTRIBUTE, max_bytes)
        return view

    return declare
