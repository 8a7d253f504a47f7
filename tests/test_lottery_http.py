"""The lottery through the real app: upload, commit, draw, letters, registration, selection."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, select

from summit.core.models import Participant
from summit.core.security import token_hash
from summit.lottery import service as lottery
from summit.lottery.models import Registration, WithdrawalLink
from tests.support.http import csrf_of, login
from tests.support.lottery_http import (
    SEED,
    current_summit_id,
    invited_and_registered,
    register_csv,
    register_everyone,
    upload,
)


def test_the_whole_lottery_over_http(demo_client: Any) -> None:
    client, info = demo_client
    client.get("/?lang=en")  # the assertions below read the English text
    assert login(client, "organiser", info.organiser_password).status_code == 303

    bad = upload(client, register_csv(10) + "12;Q;1980-01-01;Noord;X\n13;M;1980-13-45;Oost;Y\n")
    assert bad.status_code == 400
    assert "The file was not imported" in bad.text
    assert re.search(r"<td>13</td><td>Gender</td>", bad.text)
    assert re.search(r"<td>14</td><td>Date of birth</td>", bad.text)
    assert client.get("/lottery/extract.csv").status_code == 404  # nothing was written

    assert upload(client, register_csv(150)).status_code == 303
    page = client.get("/organiser/lottery").text
    assert "excluded: younger than 16" in page and 'class="bar"' in page

    token = csrf_of(page)
    committed = client.post(
        "/organiser/lottery/commit",
        data={"csrf_token": token, "sample_size": "60", "one_per_household": "yes"},
    )
    assert committed.status_code == 303
    commitment = client.get("/lottery/commitment.json")
    assert commitment.status_code == 200
    assert lottery.sha256_hex(commitment.content) in client.get("/lottery").text
    drawn = client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    assert drawn.status_code == 303
    extract = client.get("/lottery/extract.csv").text
    result = client.get("/lottery/result.csv").text
    assert str(lottery.verify_files(commitment.text, extract, SEED, result)) == "MATCH"
    assert "500000" not in extract  # pseudonymised

    letters = client.get("/organiser/lottery/letters").text
    assert letters.count('class="letter"') == 60 and letters.count("<svg") == 60
    merge = client.get("/organiser/lottery/mailmerge.csv").text.splitlines()
    assert merge[0] == "pseudonym,code,link" and len(merge) == 61
    code = merge[1].split(",")[1]
    assert code in letters

    named = client.post("/organiser/lottery/named", data={"csrf_token": token, "role": "employer"})
    assert named.status_code == 200 and "/register?code=" in named.text

    client.post("/logout", data={"csrf_token": token})
    assert client.get("/organiser/lottery/mailmerge.csv").status_code in (401, 303)

    # The invitee arrives from the QR code, fills in the form, and gets a withdrawal link.
    arrive = client.get(f"/register?code={code}")
    assert arrive.status_code == 200 and 'name="first_name"' in arrive.text
    form = {
        "csrf_token": csrf_of(arrive.text),
        "step": "details",
        "code": code,
        "first_name": "Bea",
        "email": "bea@example.org",
        "attendance": "online",
        "feature_age_band": "35-49",
        "feature_gender": "female",
        "feature_district": "Oost",
        "consent": "yes",
    }
    missing = client.post("/register", data={**form, "consent": ""})
    assert missing.status_code == 400 and "consent" in missing.text
    done = client.post("/register", data=form)
    assert done.status_code == 200 and "/register/withdraw/" in done.text
    again = client.post("/register", data=form)
    assert again.status_code == 400 and "already been used" in again.text
    unknown = client.post("/register", data={**form, "code": "ZZZZZ-ZZZZZ"})
    assert unknown.status_code == 400 and "not known" in unknown.text
    audit_page = client.get("/audit").text
    assert "registration.create" in audit_page and "bea@example.org" not in audit_page


def test_the_selection_page_warns_when_fewer_people_registered_than_seats(
    demo_client: Any,
) -> None:
    client, info = demo_client
    client.get("/?lang=en")
    assert login(client, "organiser", info.organiser_password).status_code == 303

    def warned() -> set[str]:
        page = client.get("/organiser/selection").text
        sections = re.findall(
            r'<section class="panel"[^>]*data-role="(\w+)">(.*?)</section>', page, re.S
        )
        assert sections
        short = set()
        for role, body in sections:
            found = re.search(r"Seats: (\d+) · Registered: (\d+)", body)
            assert found, role
            seats, pool = int(found.group(1)), int(found.group(2))
            assert ("data-too-few" in body) == (pool < seats), role
            if pool < seats:
                short.add(role)
                assert f"Only {pool} people registered for {seats} seats" in body
        return short

    assert "resident" in warned()  # nobody has registered yet
    assert upload(client, register_csv(150)).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text)
    client.post("/organiser/lottery/commit", data={"csrf_token": token, "sample_size": "50"})
    client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    register_everyone(client, current_summit_id(client))
    assert "resident" not in warned()  # 50 invited residents registered for fewer seats


def test_the_stop_button_reaches_a_running_leximin(demo_client: Any) -> None:
    """"Stop and keep the result so far" posts to a route that sets the running job's stop
    (it was missing from the route table: the button answered 404)."""
    from summit.lottery.views.selection import job_of

    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    token, summit_id = invited_and_registered(client)
    run = {"csrf_token": token, "role": "resident", "seats": "15", "tolerance": "0.3"}
    started = client.post(
        "/organiser/selection/run",
        data={**run, "algorithm": "leximin", "panels": "200"},
        headers={"accept": "application/json"},
    )
    assert started.status_code == 202
    stopped = client.post(
        "/organiser/selection/stop", data={"csrf_token": token, "role": "resident"}
    )
    assert stopped.status_code == 303 and stopped.headers["location"] == "/organiser/selection"
    job = job_of(summit_id, "resident")
    assert job is not None and (job.stop.is_set() or job.state != "running")
    deadline = time.monotonic() + 60
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state in ("done", "cancelled"), job.message
    assert job.state == "cancelled" or job.stop.is_set() or job.exact


def test_selection_in_the_background_then_the_public_draw_and_a_withdrawal(
    demo_client: Any,
) -> None:
    client, info = demo_client
    client.get("/?lang=en")  # the assertions below read the English text
    assert login(client, "organiser", info.organiser_password).status_code == 303
    token, summit_id = invited_and_registered(client)
    before = _count(client, Participant, Participant.status != "withdrawn")

    started = client.post(
        "/organiser/selection/run",
        data={
            "csrf_token": token,
            "role": "resident",
            "seats": "15",
            "tolerance": "0.3",
            "algorithm": "maximin",
            "panels": "200",
        },
        headers={"accept": "application/json"},
    )
    assert started.status_code == 202
    deadline = time.monotonic() + 60
    state = "running"
    while state == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = client.get("/organiser/selection/status.json").json()["resident"]["state"]
    assert state == "done", client.get("/organiser/selection/status.json").json()
    page = client.get("/organiser/selection").text
    assert "Panels hash" in page and "Chances of selection" in page

    draw = {"csrf_token": token, "role": "resident", "seed": "11111 22222 33333 44444"}
    # dropout rates the quotas do not know: refused, explained, nothing drawn
    refused = client.post(
        "/organiser/selection/draw", data={**draw, "dropout_rates": "shoe_size=44: 5%"}
    )
    assert refused.status_code == 400 and "dropout rates could not be read" in refused.text
    assert _count(client, Participant, Participant.status != "withdrawn") == before
    drawn = client.post(
        "/organiser/selection/draw", data={**draw, "dropout_rates": "gender=female: 20%"}
    )
    assert drawn.status_code == 200
    assert drawn.text.count("/p/") == 15
    assert _count(client, Participant, Participant.status != "withdrawn") == before + 15
    report = client.get("/organiser/selection").text
    assert "Panel and population per feature" in report
    # the first reserves were chosen for the dropout rates; both simulated chances shown
    assert "data-reserve-survival" in report and "of simulated days" in report

    # A selected resident withdraws with the link from their confirmation: a reserve takes over.
    async def withdrawal_token() -> tuple[int, str]:
        async with client.db.session() as session:
            registration = await session.scalar(
                select(Registration).where(Registration.status == "selected").limit(1)
            )
            assert registration is not None
            link = await session.scalar(
                select(WithdrawalLink).where(WithdrawalLink.registration_id == registration.id)
            )
            assert link is not None
            # Only the hash is stored; give this test a known token by replacing it.
            link.token_hash = token_hash("known-withdrawal-token")
            return registration.id, "known-withdrawal-token"

    _reg_id, secret = client.run(withdrawal_token())
    confirm = client.get(f"/register/withdraw/{secret}")
    assert confirm.status_code == 200
    out = client.post(f"/register/withdraw/{secret}", data={"csrf_token": csrf_of(confirm.text)})
    assert out.status_code == 200 and "You have withdrawn" in out.text
    assert _count(client, Participant, Participant.status != "withdrawn") == before + 15
    assert "selection.replace" in client.get("/audit").text
    assert (
        client.post(
            "/register/withdraw/nonsense", data={"csrf_token": csrf_of(confirm.text)}
        ).status_code
        == 404
    )


def _count(client: Any, model: Any, *where: Any) -> int:
    async def go() -> int:
        async with client.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    return int(client.run(go()))


def test_code_tries_are_rate_limited_and_cancel_needs_the_organiser(demo_client: Any) -> None:
    from summit.core.ratelimit import RateLimiter

    client, _info = demo_client
    client.app.state.link_limiter = RateLimiter(3)
    statuses = [client.get("/register?code=AAAAA-BBBBB").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    token = csrf_of(client.get("/login").text)
    denied = client.post("/organiser/selection/cancel", data={"csrf_token": token, "role": "x"})
    assert denied.status_code == 401
    assert client.get("/organiser/selection/status.json").status_code == 401


def test_a_windows_1252_extract_uploads_and_reports_encoding_and_households(
    demo_client: Any,
) -> None:
    client, info = demo_client
    client.get("/?lang=en")
    assert login(client, "organiser", info.organiser_password).status_code == 303
    rows = ["BSN;Geslacht;Geboortedatum;Wijk;Postcode;Huisnummer"]
    for i in range(40):
        wijk = "Zuid-Oëst" if i % 2 else "Café-buurt"
        rows.append(f"{700000 + i};V;1970-01-0{i % 9 + 1};{wijk};1234 AB;{i // 2 + 1}")
    token = csrf_of(client.get("/organiser/lottery").text)
    sent = client.post(
        "/organiser/lottery/register",
        data={
            "csrf_token": token,
            "map_id": "BSN",
            "map_gender": "Geslacht",
            "map_birth_date": "Geboortedatum",
            "map_district": "Wijk",
            "map_household": "Postcode+Huisnummer",
        },
        files={"file": ("register.csv", "\r\n".join(rows).encode("cp1252"), "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    page = client.get("/organiser/lottery").text
    assert "The file was read as Windows-1252." in page
    assert re.search(r'<span class="stat">20</span>\s*households', page)
    assert "Zuid-Oëst" in page and "Café-buurt" in page
    assert "residents per household" not in page  # two per house: no warning
