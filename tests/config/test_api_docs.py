"""The API's Swagger UI page is served under a Content-Security-Policy with no inline code."""

from __future__ import annotations

from django.test import Client


def test_the_api_docs_page_has_a_content_security_policy_without_inline_code() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert "<script>" not in html
    assert "<style>" not in html


def test_the_api_docs_start_up_script_is_served_as_a_file_under_the_same_policy() -> None:
    response = Client().get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
    assert "Content-Security-Policy" in response
