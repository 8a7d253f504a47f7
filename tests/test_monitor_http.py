"""The Monitor through real HTTP on the demo summit: a partner's link, signing and responding,
the organiser's forms with bad input (nothing stored), documents, open data without personal
data, the public pages."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from summit.core.models import AuditEntry, LoginSession
from summit.monitor import tracking
from summit.monitor.models import (
    MonitorDocument,
    MonitorMilestone,
    MonitorUpdate,
    PartnerAccount,
    PartnerResponse,
)
from summit.monitor.opendata import DATASETS
from tests.support.app import Client
from tests.support.http import csrf_of, login


def counts(client: Client) -> dict[str, int]:
    async def go() -> dict[str, int]:
        async with client.db.session() as session:
            found = {}
            for model in (
                AuditEntry,
                MonitorDocument,
                MonitorMilestone,
                MonitorUpdate,
                PartnerResponse,
            ):
                found[model.__name__] = int(
                    await session.scalar(select(func.count()).select_from(model)) or 0
                )
            return found

    result: dict[str, int] = client.run(go())
    return result


def item_ids(client: Client) -> dict[str, int]:
    async def go() -> dict[str, int]:
        async with client.db.session() as session:
            return {i.title: i.id for i in await tracking.items(session, 1)}

    found: dict[str, int] = client.run(go())
    return found


def links(info: Any) -> dict[str, str]:
    return dict(info.links)


def test_a_partner_signs_online_and_responds_within_its_areas(demo_client: Any) -> None:
    client, info = demo_client
    items = item_ids(client)
    opened = client.get(links(info)["partner (unsigned)"])
    assert opened.status_code == 303 and opened.headers["location"] == "/partner"
    home = client.get("/partner?lang=en")
    assert "Sign the partner agreement" in home.text
    before = counts(client)
    refused = client.post(
        "/partner/sign",
        data={"csrf_token": csrf_of(home.text), "signatory": "Voorzitter", "areas": "mobiliteit"},
    )
    assert refused.status_code == 400 and "tick the box" in refused.text
    assert 'value="Voorzitter"' in refused.text and counts(client) == before
    signed = client.post(
        "/partner/sign",
        data={"csrf_token": csrf_of(home.text), "signatory": "Voorzitter", "agree": "yes",
              "areas": ["mobiliteit", "groen-en-klimaat"]},
    )  # fmt: skip
    assert signed.status_code == 303
    public = client.get("/monitor/partners?lang=en")
    assert 'data-signed="Ondernemersvereniging Lindeveld"' in public.text

    answer = {
        "csrf_token": csrf_of(home.text), "form": "respond", "answer": "will",
        "plan": "Wij sponsoren fietsenstallingen.", "starts_on": "2027-01-01",
        "ends_on": "2027-06-30", "contact_name": "K. Smit", "contact_role": "Voorzitter",
    }  # fmt: skip
    housing = items["Starterswoningen bouwen"]
    outside = client.post(f"/partner/proposals/{housing}/respond?lang=en", data=answer)
    assert outside.status_code == 400 and "outside the policy areas" in outside.text
    assert counts(client)["PartnerResponse"] == before["PartnerResponse"]
    bike = items["Veilige fietsroutes naar school"]
    bad_date = client.post(
        f"/partner/proposals/{bike}/respond?lang=en", data={**answer, "ends_on": "30-06-2027"}
    )
    assert bad_date.status_code == 400 and "use a date like" in bad_date.text
    assert "Wij sponsoren fietsenstallingen." in bad_date.text  # what was typed is kept
    assert client.post(f"/partner/proposals/{bike}/respond", data=answer).status_code == 303
    page = client.get(f"/monitor/proposals/{bike}?lang=en")
    assert (
        "Ondernemersvereniging Lindeveld" in page.text
        and "Wij sponsoren fietsenstallingen." in page.text
    )
    assert counts(client)["PartnerResponse"] == before["PartnerResponse"] + 1


def partner_sessions(client: Client) -> list[tuple[int, str | None]]:
    """(partner link, end reason or None while open) of every partner session, oldest first."""

    async def go() -> list[tuple[int, str | None]]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(LoginSession.partner_link_id, LoginSession.ended_at, LoginSession.end_reason)
                .where(LoginSession.partner_link_id.is_not(None))
                .order_by(LoginSession.id)
            )
            return [(int(link), reason if ended else None) for link, ended, reason in rows]

    found: list[tuple[int, str | None]] = client.run(go())
    return found


def test_a_partner_logs_out_and_the_old_cookie_no_longer_works(demo_client: Any) -> None:
    client, info = demo_client
    assert client.get(links(info)["partner (signed)"]).status_code == 303
    assert "partner_link" not in str(client.cookies)
    assert [reason for _, reason in partner_sessions(client)] == [None]
    page = client.get("/partner")
    assert page.status_code == 200
    as_partner = dict(client.cookies)
    answer = client.post("/partner/logout", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    assert [reason for _, reason in partner_sessions(client)] == ["logout"]
    client.cookies.clear()
    client.cookies.update(as_partner)  # a copy of the cookie from before the logout
    assert client.get("/partner", headers={"accept": "application/json"}).status_code == 401


def test_a_revoked_partner_link_ends_the_partners_session(demo_client: Any) -> None:
    client, info = demo_client
    client.get(links(info)["partner (signed)"])
    assert client.get("/partner").status_code == 200
    client.cookies.clear()
    client.get(links(info)["partner (signed)"])  # a second browser of the same partner
    assert [reason for _, reason in partner_sessions(client)] == [None, None]
    as_partner = dict(client.cookies)
    client.cookies.clear()  # one client (one event loop), two people in turn
    organiser = client
    login(organiser, "organiser", info.organiser_password)
    page = organiser.get("/organiser/monitor")
    answer = organiser.post(
        "/organiser/monitor/partners/1/link",
        data={"csrf_token": csrf_of(page.text), "action": "revoke"},
    )
    assert answer.status_code == 200
    # both sessions ended with the revocation itself, before either browser comes back
    assert [reason for _, reason in partner_sessions(client)] == ["link", "link"]
    client.cookies.clear()
    client.cookies.update(as_partner)
    assert client.get("/partner", headers={"accept": "application/json"}).status_code == 401
    assert client.get(links(info)["partner (signed)"]).status_code == 404


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_bad_documents_dates_and_percentages_get_a_clear_error_and_store_nothing(
    demo_client: Any,
) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/monitor?lang=en")
    token = csrf_of(page.text)
    bike = item_ids(client)["Veilige fietsroutes naar school"]
    before = counts(client)
    base = f"/organiser/monitor/proposals/{bike}"
    oversized = client.post(
        f"{base}/documents", data={"csrf_token": token, "title": "Groot"},
        files={"file": ("groot.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")},
    )  # fmt: skip
    assert oversized.status_code == 400 and "the limit is 5 MB" in oversized.text
    wrong = client.post(
        f"{base}/documents", data={"csrf_token": token, "title": "Plaatje"},
        files={"file": ("plaatje.pdf", PNG, "application/pdf")},
    )  # fmt: skip
    assert wrong.status_code == 400 and "this is not a PDF" in wrong.text
    date = client.post(
        f"{base}/milestones", data={"csrf_token": token, "title": "X", "due_on": "2027-02-30"}
    )
    assert date.status_code == 400 and "use a date like" in date.text
    percent = client.post(
        f"{base}/report", data={"csrf_token": token, "status": "in_progress", "progress": "150"}
    )
    assert percent.status_code == 400 and "from 0 to 100" in percent.text
    assert counts(client) == before

    good = client.post(
        f"{base}/documents", data={"csrf_token": token, "title": "Besluit"},
        files={"file": ("besluit.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert good.status_code == 303
    listed = client.get("/open-data/documents.json").json()["rows"]
    pdf = next(r for r in listed if r["title"] == "Besluit")
    download = client.get(pdf["url"])
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"


def test_the_organiser_confirms_the_group_with_a_public_seed(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/monitor?lang=en")
    bad = client.post(
        "/organiser/monitor/group", data={"csrf_token": csrf_of(page.text), "seats": "many"}
    )
    assert bad.status_code == 400 and "whole number" in bad.text
    group = client.get("/monitor/group?lang=en")
    assert "the draw matches" in group.text and "3141592653" in group.text


def test_open_data_is_complete_neutralised_and_free_of_personal_data(demo_client: Any) -> None:
    client, _info = demo_client

    async def plant_formula() -> None:
        async with client.db.session() as session:
            response = (await session.execute(select(PartnerResponse))).scalars().first()
            assert response is not None
            response.plan = '=HYPERLINK("http://evil")'

    client.run(plant_formula())
    index = client.get("/open-data?lang=en")
    everything = ""
    for name in DATASETS:
        assert f"/open-data/{name}.json" in index.text
        data = client.get(f"/open-data/{name}.json")
        table = client.get(f"/open-data/{name}.csv")
        assert data.status_code == table.status_code == 200
        assert table.text.splitlines()[0].split(",") == list(DATASETS[name].fields)
        assert set(data.json()["fields"]) == set(DATASETS[name].fields)
        everything += data.text + table.text
    assert "'=HYPERLINK" in client.get("/open-data/responses.csv").text
    for personal in ("volger@example.org", "A. de Vries", "R. Bakker", "contact_name"):
        assert personal not in everything
    rows = json.loads(client.get("/open-data/responses.json").text)["rows"]
    assert {r["answer"] for r in rows} >= {"will", "partly", "wont"}
    assert "Wethouder Energie" in {r["contact_function"] for r in rows}


def test_the_public_pages_show_the_decision_and_its_lifecycle(demo_client: Any) -> None:
    client, _info = demo_client
    overview = client.get("/monitor?lang=en")
    assert overview.status_code == 200 and "<svg" in overview.text
    states = dict(re.findall(r'data-state="(\w+)"><span class="stat">(\d+)<', overview.text))
    assert states == {"done": "0", "on_track": "2", "late": "1", "refused": "1"}
    solar = item_ids(client)["Zonnepanelen op alle scholen"]
    page = client.get(f"/monitor/proposals/{solar}?lang=en")
    assert 'data-response="wont"' in page.text and "2031" in page.text
    assert 'data-overdue="Provincie Zeeveld"' in page.text
    lifecycle = client.get("/g1000?lang=en")
    assert 'aria-current="step"' in lifecycle.text and 'data-step="monitor"' in lifecycle.text
    home = client.get("/?lang=en")
    assert 'href="/g1000"' in home.text and 'href="/monitor"' in home.text


def test_a_participant_volunteers_and_a_member_assesses(demo_client: Any) -> None:
    client, info = demo_client
    client.get(links(info)["employer (online)"])
    page = client.get("/me/monitor?lang=en")
    assert "Volunteer for the Monitor group" in page.text
    client.post("/me/monitor", data={"csrf_token": csrf_of(page.text)})
    assert "data-volunteered" in client.get("/me/monitor").text
    bike = item_ids(client)["Veilige fietsroutes naar school"]
    assert client.get(f"/me/monitor/proposals/{bike}").status_code == 403
    refused = client.post(
        f"/me/monitor/proposals/{bike}/assess?lang=en",
        data={"csrf_token": csrf_of(page.text), "verdict": "done", "text": "Klaar."},
    )
    assert refused.status_code == 403 and "only members of the Monitor group" in refused.text
    client.cookies.clear()
    member = client
    member.get(links(info)["monitor (member)"])
    work = member.get(f"/me/monitor/proposals/{bike}?lang=en")
    bad = member.post(
        f"/me/monitor/proposals/{bike}/assess",
        data={
            "csrf_token": csrf_of(work.text),
            "form": "assess",
            "verdict": "maybe",
            "text": "Hm.",
        },
    )
    assert bad.status_code == 400 and "choose one of" in bad.text
    done = member.post(
        f"/me/monitor/proposals/{bike}/assess",
        data={
            "csrf_token": csrf_of(work.text),
            "form": "assess",
            "verdict": "delayed",
            "text": "De aanbesteding loopt vertraging op.",
        },
    )
    assert done.status_code == 303
    public = client.get(f"/monitor/proposals/{bike}?lang=en")
    assert 'data-assessment="delayed"' in public.text and "De aanbesteding" in public.text


def test_the_private_discussion_is_not_public(demo_client: Any) -> None:
    client, info = demo_client
    houses = item_ids(client)["Starterswoningen bouwen"]
    public = client.get(f"/monitor/proposals/{houses}")
    assert "vijf procent na een jaar" not in public.text
    client.get(links(info)["monitor (member)"])
    assert "vijf procent na een jaar" in client.get(f"/me/monitor/proposals/{houses}").text


def test_partner_accounts_keep_only_pseudonymous_actors_in_the_audit_log(demo_client: Any) -> None:
    client, _info = demo_client

    async def go() -> list[str]:
        async with client.db.session() as session:
            accounts = (await session.execute(select(PartnerAccount.pseudonym))).scalars().all()
            actors = (
                (
                    await session.execute(
                        select(AuditEntry.actor).where(AuditEntry.action == "agreement.sign")
                    )
                )
                .scalars()
                .all()
            )
            return [a for a in actors if a not in accounts]

    assert client.run(go()) == []
