"""Swagger UI at /api/docs/ renders the API's operations under the site's CSP, breaking none of it."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_the_api_docs_render_the_operations_with_no_csp_violation(
    browser: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    response = page.goto(live_server.url + "/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    expect(page.locator(".swagger-ui .title").first).to_contain_text("Policy tracker API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 10
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    assert page.evaluate("window.cspViolations") == []
    assert errors == []
    context.close()
