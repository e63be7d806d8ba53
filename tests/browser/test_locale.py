"""The browser runs in Chinese, as the console's users' do: a date input reads 年/月/日, not mm/dd/yyyy
(Chromium's own language comes from live.launch; the page's locale alone does not change these fields)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import OpenAs


def date_fields(page: Page, selector: str) -> list[str]:
    """The names of a date input's year/month/day fields, in the order shown, from the accessibility tree."""
    page.locator(selector).first.focus()
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    return [
        str(n["name"]["value"]).split()[0]
        for n in nodes
        if n.get("role", {}).get("value") == "spinbutton" and n.get("name", {}).get("value")
    ]


@pytest.mark.browser
def test_date_inputs_read_year_month_day_in_chinese(open_as: OpenAs) -> None:
    page = open_as("hotline")
    page.wait_for_selector("#call-filter input[type=date]")
    fields = date_fields(page, "#call-filter input[type=date]")
    assert fields[:3] == ["年", "月", "日"], fields
