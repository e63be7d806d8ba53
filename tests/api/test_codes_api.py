"""GET /api/codes: what the codes in the API's fields stand for."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Headers

from cases import codes
from cases.models import CaseStatus

Auth = Callable[[str], Headers]


def test_the_code_tables_name_every_code_the_api_uses(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/codes").status_code == 401
    tables = client.get("/api/codes", headers=auth("cadre1")).json()
    assert tables["risks"]["01"] == "因病" and tables["risks"]["09"] == "其他" and len(tables["risks"]) == 9
    assert tables["guarantees"]["A23"] == "住房安全保障风险" and set(tables["guarantees"]) == {
        "A23", "A24", "A25", "A26"}
    assert tables["disasters"]["01"] == "洪涝灾害" and tables["categories"]["3"] == "突发严重困难户"
    assert tables["annex1_items"]["6"] == "因病" and len(tables["annex1_items"]) == 14
    assert set(tables["measures"]) == set(codes.MEASURES) and tables["measures"]["A39"] == "产业帮扶"
    assert set(tables["statuses"]) == {str(s) for s in CaseStatus}  # every status has its words
    assert tables["statuses"]["public_notice"] == "公示中"
