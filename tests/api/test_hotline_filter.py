"""The hotline's calls list is filtered by a CSRF-checked POST: summary words and caller numbers never go
into a URL (G6), and its pages stay usable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.console.hotline import CALLS_PER_PAGE
from api.settings import Settings
from cases import demo
from cases.clock import FrozenClock
from cases.crypto import Vault
from cases.models import HotlineCall, Staff

from .test_console import log_call, login

CALLER = "13912345678"
_URL_ATTRS = re.compile(r'\b(?:href|action|src|formaction)="([^"]*)"')


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def urls_of(response: Response) -> list[str]:
    """Every URL the exchange used or the page offers: the request's, redirects', links and forms'."""
    found = [str(response.request.url), *(str(r.request.url) for r in response.history)]
    found += [response.headers.get("location", "")]
    return found + _URL_ATTRS.findall(response.text)


def rows(html: str) -> list[str]:
    body = html.split('id="calls"')[1].split("</tbody>")[0]
    return re.findall(r'href="/console/hotline/calls/(\d+)"', body)


def test_a_callers_number_filters_the_calls_by_post_and_never_lands_in_a_url(
    web: TestClient, seeded: Session
) -> None:
    csrf = login(web, "hotline")
    log_call(web, csrf, "梅花村张建国来电，老伴住院", phone=CALLER)
    log_call(web, csrf, "石桥村李四来电，摔断了腿", phone="13800001111")
    first, second = seeded.scalars(select(HotlineCall).order_by(HotlineCall.id)).all()

    found = web.post("/console/hotline", data={"csrf": csrf, "q": CALLER})
    assert found.status_code == 200
    assert rows(found.text) == [str(first.id)]  # the number matched on its keyed hash, not in the summary
    assert all(CALLER not in url for url in urls_of(found)), urls_of(found)
    assert 'method="post" action="/console/hotline"' in found.text and 'method="get"' not in found.text

    by_word = web.post("/console/hotline", data={"csrf": csrf, "q": "摔断"})
    assert rows(by_word.text) == [str(second.id)]
    assert all("摔断" not in url for url in urls_of(by_word))

    # a query string is not a filter: nothing is searched for, nothing echoed back into the page
    ignored = web.get("/console/hotline", params={"q": CALLER})
    assert sorted(rows(ignored.text)) == sorted([str(first.id), str(second.id)])
    assert CALLER not in ignored.text
    # without the session's CSRF token: refused, nothing listed
    refused = web.post("/console/hotline", data={"q": CALLER})
    assert refused.status_code == 403 and 'id="calls"' not in refused.text


def test_the_pages_of_a_filtered_list_are_posts_that_keep_the_filter(
    web: TestClient, seeded: Session, settings: Settings, clock: FrozenClock
) -> None:
    csrf = login(web, "hotline")
    operator = seeded.scalars(select(Staff).where(Staff.username == "hotline")).one()
    vault = Vault(settings.secret_key)
    for i in range(CALLS_PER_PAGE + 5):
        seeded.add(HotlineCall(
            operator_staff_id=operator.id, caller_phone_enc=vault.encrypt(CALLER),
            caller_phone_hash=vault.lookup_hash(CALLER), started_at=clock() - timedelta(minutes=i),
            summary=f"第{i}次来电，问低保", parsed={}, area_code=demo.COUNTY))
    seeded.add(HotlineCall(operator_staff_id=operator.id, started_at=clock(), summary="别人来电", parsed={},
                           area_code=demo.COUNTY))
    seeded.commit()

    first = web.post("/console/hotline", data={"csrf": csrf, "q": CALLER})
    assert len(rows(first.text)) == CALLS_PER_PAGE
    pager = first.text.split('class="pager"')[1]
    assert "下一页" in pager and "上一页" not in pager and "第 1 页" in pager
    assert f'name="q" value="{CALLER}"' in pager and 'name="page" value="2"' in pager
    assert all(CALLER not in url for url in urls_of(first))

    fields = dict(re.findall(r'name="(csrf|q|day|page)" value="([^"]*)"', pager))
    second = web.post("/console/hotline", data=fields)
    assert second.status_code == 200 and len(rows(second.text)) == 5
    assert not set(rows(second.text)) & set(rows(first.text))
    assert "上一页" in second.text and "下一页" not in second.text
    assert all(CALLER not in url for url in urls_of(second))

    # browsing without words still pages by GET
    unfiltered = web.get("/console/hotline", params={"page": 2})
    assert len(rows(unfiltered.text)) == 6
