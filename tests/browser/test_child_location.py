"""A child in danger: where the child is comes first, on a phone, and the reporter may add their
location with one press, seeing it before anything is sent. Nothing without their action."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage

pytestmark = pytest.mark.browser
FORM = "/en/report/child_in_danger/"
PHONE = {"width": 390, "height": 844}
BIG_BEN = {"latitude": 51.50070, "longitude": -0.12460, "accuracy": 20}


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
def test_where_the_child_is_is_the_first_question_on_a_phone_screen(
    open_page: OpenPage, js: bool
) -> None:
    watched = open_page(js=js, **PHONE)
    page = watched.page
    page.goto(watched.url(FORM))
    first = page.locator("form.report-form :is(input, textarea, select):visible").first
    assert first.get_attribute("id") == "id_child_location"
    box = page.locator("#id_child_location").bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"], "not on the first screen of a phone"
    assert page.locator("#id_what_happened").bounding_box()["y"] > box["y"]  # type: ignore[index]
    # The emergency numbers stay one tap away.
    assert page.get_by_text("Emergency numbers by country").is_visible()
    if not js:
        assert page.get_by_role("button", name="Use my current location").count() == 0


def test_location_is_added_only_on_the_reporters_press_and_shown_before_sending(
    open_page: OpenPage, screenshot_dir: Path
) -> None:
    watched = open_page(js=True, **PHONE)
    watched.context.grant_permissions(["geolocation"], origin=watched.base_url)
    watched.context.set_geolocation(BIG_BEN)
    page = watched.page
    page.goto(watched.url(FORM))
    assert page.locator("#id_child_location").input_value() == ""
    assert page.locator("#id_country").input_value() == ""
    page.get_by_role("button", name="Use my current location").click()
    field = page.locator("#id_child_location")
    # expect() polls from outside the page: our CSP refuses wait_for_function's compiled predicate.
    expect(field).to_have_value("51.50070, -0.12460 (± 20 m)")
    expect(page.locator("#id_country")).to_have_value("GB")
    assert page.get_by_text("The country was chosen from your location").is_visible()
    page.screenshot(path=str(screenshot_dir / "child-location-390.png"), full_page=True)
    # Nothing left the page: the only documents are the form itself.
    assert [u for u in watched.documents if not u.endswith(FORM)] == []
    # The reporter edits it, then sends: what they see is what is sent.
    field.fill("Near the bridge — 51.50070, -0.12460")
    page.locator("#id_what_happened").fill("A man is trying to get a boy into his car.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_selector("#receipt")


def test_a_country_the_reporter_chose_is_never_overwritten(open_page: OpenPage) -> None:
    watched = open_page(js=True, **PHONE)
    watched.context.grant_permissions(["geolocation"], origin=watched.base_url)
    watched.context.set_geolocation(BIG_BEN)
    page = watched.page
    page.goto(watched.url(FORM))
    page.select_option("#id_country", "IE")
    page.get_by_role("button", name="Use my current location").click()
    expect(page.locator("#id_child_location")).not_to_have_value("")
    page.wait_for_timeout(300)
    assert page.locator("#id_country").input_value() == "IE"


def test_other_forms_may_not_ask_for_the_location(open_page: OpenPage) -> None:
    watched = open_page(js=True, **PHONE)
    page = watched.page
    response = page.goto(watched.url("/en/report/luring/"))
    assert response is not None
    assert "geolocation=()" in response.headers["permissions-policy"]
    allowed = page.evaluate(
        "document.featurePolicy ? document.featurePolicy.allowsFeature('geolocation') : null"
    )
    assert allowed in (False, None)
    response = page.goto(watched.url(FORM))
    assert response is not None
    assert "geolocation=(self)" in response.headers["permissions-policy"]
