"""The two-stage lottery's use cases on the database: import, committed draw, registration,
selection with quotas and replacement (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from summit.core import audit
from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.models import AuditEntry, Participant
from summit.lottery import selection as sel
from summit.lottery import service as lottery
from summit.lottery.models import Invitation, RegisterEntry, Registration
from summit.lottery.rules.register import RegisterError
from summit.lottery.rules.selection import SelectionCancelled
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)
from tests.support.lottery import (
    KEY,
    MAPPING,
    SECRET,
    SEED,
    drawn_register,
    form,
    make_summit,
    register_csv,
    registered_pool,
)

pytestmark = pytest.mark.anyio


async def count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_import_counts_under_16s_and_stores_shares(database: Any) -> None:
    async with database.session() as session:
        summit = await make_summit(session)
        register, record = await lottery.import_register(
            session, summit, register_csv(40, young=3), MAPPING, actor="S-test", key=KEY
        )
    assert register.excluded_under_age == 3 and record.excluded_under_age == 3
    assert record.eligible == 40 == len(register.residents)
    assert abs(sum(record.shares["gender"].values()) - 1.0) < 1e-9
    async with database.session() as session:
        assert await count(session, RegisterEntry) == 40
        pseudonyms = (await session.execute(select(RegisterEntry.pseudonym))).scalars().all()
        assert not any(p.startswith("1000") for p in pseudonyms)  # ids are pseudonymised
        last = (await audit.recent(session, limit=1))[0]
        assert last.action == "register.import" and last.payload["excluded_under_age"] == 3


@pytest.mark.parametrize(
    "bad_line, field",
    [
        ("100001;M;1980-01-01;1011 AB;X", "id"),  # duplicate id (the first row has 100000+1)
        ("555;Q;1980-01-01;1011 AB;X", "gender"),
        ("556;M;31-31-1980;1011 AB;X", "birth_date"),
        ("557;M;1980-01-01;ABCD;X", "postcode"),
        ("558;M;1980-01-01", "row"),
        (";M;1980-01-01;1011 AB;X", "id"),
    ],
)
async def test_import_rejects_each_bad_row_without_writing(
    database: Any, bad_line: str, field: str
) -> None:
    text = register_csv(5) + bad_line + "\r\n"
    async with database.session() as session:
        summit = await make_summit(session)
    with pytest.raises(RegisterError) as caught:
        async with database.session() as session:
            await lottery.import_register(session, summit, text, MAPPING, actor="S", key=KEY)
    assert any(e.field == field and e.row == 7 for e in caught.value.errors), caught.value.errors
    async with database.session() as session:
        assert await count(session, RegisterEntry) == 0
        assert (await audit.recent(session, limit=1))[0].action == "summit.create"


async def test_draw_is_reproducible_and_verifies(database: Any) -> None:
    summit, draw = await drawn_register(database)
    pseudonyms = draw.result["pseudonyms"]
    assert len(pseudonyms) == 20 == len(set(pseudonyms))
    async with database.session() as session:
        entries = await lottery.extract(session, summit.id)
        invitations = (await session.execute(select(Invitation))).scalars().all()
        assert len(invitations) == 20
        # Codes are stored hashed only: the code itself appears nowhere in the row.
        code = lottery.invitation_code(SECRET, summit.id, pseudonyms[0])
        assert all(code not in (i.code_hash or "") for i in invitations)
        actions = [e.action for e in await audit.recent(session, limit=3)]
        assert actions[0] == "draw.run" and "draw.commit" in actions
    files = (
        lottery.commitment_json(draw).decode(),
        lottery.extract_csv(entries),
        lottery.result_csv(pseudonyms),
    )
    assert str(lottery.verify_files(files[0], files[1], SEED, files[2])) == "MATCH"
    wrong_seed = lottery.verify_files(files[0], files[1], "3141 5926 5358 9793 2385", files[2])
    assert not wrong_seed.ok and "position" in wrong_seed.message
    swapped = [pseudonyms[1], pseudonyms[0], *pseudonyms[2:]]
    bad = lottery.verify_files(files[0], files[1], SEED, lottery.result_csv(swapped))
    assert not bad.ok and bad.message.startswith("position 0")
    short_extract = lottery.extract_csv(entries[1:])
    assert not lottery.verify_files(files[0], short_extract, SEED, files[2]).ok


async def test_register_is_frozen_once_a_draw_is_committed(database: Any) -> None:
    summit, _draw = await drawn_register(database)
    with pytest.raises(InvalidInput, match="final"):
        async with database.session() as session:
            await lottery.import_register(
                session, summit, register_csv(10), MAPPING, actor="S", key=KEY
            )


async def test_registration_with_a_code_and_refusals(database: Any) -> None:
    summit, draw = await drawn_register(database)
    code = lottery.invitation_code(SECRET, summit.id, draw.result["pseudonyms"][3])
    async with database.session() as session:
        imported = await lottery.latest_import(session, summit.id)
        questions = lottery.feature_questions(summit, imported)
        parsed = lottery.parse_registration_form(
            form(), summit, languages=["nl", "en"], questions=questions
        )
        typed = lottery.format_code(code).lower()  # as typed off the letter
        registration, token = await lottery.register_with_code(
            session, summit, typed, parsed, actor="public", secret_key=SECRET
        )
    async with database.session() as session:
        with pytest.raises(lottery.CodeRejected) as used:
            await lottery.find_invitation(session, summit, code, secret_key=SECRET)
        assert used.value.reason == "used"
        with pytest.raises(lottery.CodeRejected) as unknown:
            await lottery.find_invitation(session, summit, "ABCDE-FGHJK", secret_key=SECRET)
        assert unknown.value.reason == "unknown"
        entry = (await audit.recent(session, limit=1))[0]
        assert entry.action == "registration.create"
        assert "Anna" not in str(entry.payload) and "anna@" not in str(entry.payload)
    with pytest.raises(InvalidInput, match="consent"):
        lottery.parse_registration_form(form(consent=""), summit, languages=["nl"])
    with pytest.raises(InvalidInput, match="feature_gender"):
        lottery.parse_registration_form(
            form(feature_gender="robot"), summit, languages=["nl"], questions=questions
        )
    async with database.session() as session:
        withdrawn = await lottery.withdraw(session, token, actor="public")
        assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_at is not None
        assert registration.id == withdrawn.id


async def test_named_and_self_registration(database: Any) -> None:
    async with database.session() as session:
        summit = await make_summit(session)
        invitation, code = await lottery.invite_named(
            session, summit, actor="S-test", role="politician", secret_key=SECRET
        )
        assert code not in invitation.code_hash
        with pytest.raises(InvalidInput, match="role"):
            await lottery.invite_named(
                session, summit, actor="S-test", role="resident", secret_key=SECRET
            )
    async with database.session() as session:
        parsed = lottery.parse_registration_form(
            form(feature_gender="x", feature_age_band="y"), summit, languages=["nl"]
        )
        registration, _ = await lottery.register_with_code(
            session, summit, code, parsed, actor="public", secret_key=SECRET
        )
        assert registration.role == "politician"
        own, _ = await lottery.register_self(
            session, summit, "free_thinker", parsed, actor="public"
        )
        assert own.role == "free_thinker"
        with pytest.raises(InvalidInput, match="self-registration"):
            await lottery.register_self(session, summit, "employer", parsed, actor="public")


async def test_selection_keeps_quotas_and_replacement_keeps_them(database: Any) -> None:
    summit = await registered_pool(database, 40)
    async with database.session() as session:
        data = await sel.selection_input(
            session,
            summit,
            role="resident",
            seats=12,
            tolerance=0.2,
            algorithm="maximin",
            panels=200,
        )
    assert data.quotas and data.algorithm == "maximin"
    result = sel.compute_selection(data)
    async with database.session() as session:
        await sel.store_selection(session, summit, data, result, actor="S-test")
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        draw, links = await sel.finalise_selection(
            session, summit, role="resident", seed=SEED, actor="S-test"
        )
    assert len(links) == 12
    panel = draw.result["panel"]
    people = [sel.Person(pid, f) for pid, f in draw.result["people"].items()]
    assert not sel.check_panel(panel, people, data.quotas, 12)
    async with database.session() as session:
        selected = (await session.execute(select(Participant))).scalars().all()
        assert len(selected) == 12 and all(p.registration_id for p in selected)
        reserves = await session.scalar(
            select(func.count()).select_from(Registration).where(Registration.status == "reserve")
        )
        assert reserves == 28
    # A selected member withdraws: a reserve takes the seat and every quota still holds.
    leaving = int(panel[0][1:])
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        link = (
            await session.execute(
                select(lottery.WithdrawalLink).where(
                    lottery.WithdrawalLink.registration_id == leaving
                )
            )
        ).scalar_one()
        assert link is not None
        registration = await session.get(Registration, leaving)
        registration.status = "withdrawn"
        new = await sel.replace_withdrawn(session, summit, leaving, actor="S-test")
    assert len(new) == 1
    async with database.session() as session:
        draw = await sel.panel_draw(session, summit.id, "resident")
        assert draw is not None
        new_panel = draw.result["panel"]
        assert panel[0] not in new_panel and len(new_panel) == 12
        assert not sel.check_panel(new_panel, people, data.quotas, 12)
        active = await session.scalar(
            select(func.count()).select_from(Participant).where(Participant.status != "withdrawn")
        )
        assert active == 12
        last = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()))).scalar()
        assert last is not None and last.action == "selection.replace"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789", min_size=1, max_size=8), max_size=6
    )
)
def test_invitation_codes_are_stable_well_formed_and_distinct(names: list[str]) -> None:
    codes = {lottery.invitation_code(SECRET, 1, n) for n in names}
    assert len(codes) == len(set(names))
    for n in names:
        code = lottery.invitation_code(SECRET, 1, n)
        assert (
            code
            == lottery.invitation_code(SECRET, 1, n)
            != lottery.invitation_code(SECRET + "x", 1, n)
        )
        assert len(code) == 10 and all(c in lottery.CODE_ALPHABET for c in code)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdef", min_size=4, max_size=12), unique=True))
def test_published_files_round_trip(pseudonyms: list[str]) -> None:
    entries = [lottery.DrawEntry(p, None if i % 2 else f"h{i}") for i, p in enumerate(pseudonyms)]
    assert lottery.read_extract_csv(lottery.extract_csv(entries)) == entries
    assert lottery.read_result_csv(lottery.result_csv(pseudonyms)) == pseudonyms
    assert Counter(pseudonyms) == Counter(lottery.read_result_csv(lottery.result_csv(pseudonyms)))


async def test_other_roles_are_drawn_uniformly_when_oversubscribed(database: Any) -> None:
    async with database.session() as session:
        summit = await make_summit(session)
        parsed = lottery.parse_registration_form(
            form(feature_gender="x", feature_age_band="y"), summit, languages=["nl"]
        )
        for _ in range(7):
            await lottery.register_self(session, summit, "civil_servant", parsed, actor="public")
    async with database.session() as session:
        data = await sel.selection_input(session, summit, role="civil_servant", seats=3, panels=50)
    assert data.algorithm == "uniform" and not data.quotas and data.seats == 3
    result = sel.compute_selection(data)
    assert all(abs(p - 3 / 7) < 1e-9 for p in result.probabilities.values())
    async with database.session() as session:
        await sel.store_selection(session, summit, data, result, actor="S-test")
        draw, links = await sel.finalise_selection(
            session, summit, role="civil_servant", seed=SEED, actor="S-test"
        )
    assert len(links) == 3 and len(draw.result["reserves"]) == 4
    with pytest.raises(InvalidInput, match="already been drawn"):
        async with database.session() as session:
            await sel.store_selection(session, summit, data, result, actor="S-test")


async def test_a_running_selection_can_be_cancelled(database: Any) -> None:
    summit = await registered_pool(database, 30)
    async with database.session() as session:
        data = await sel.selection_input(
            session, summit, role="resident", seats=10, tolerance=0.3, algorithm="leximin"
        )
    seen: list[float] = []
    with pytest.raises(SelectionCancelled):
        sel.compute_selection(data, progress=lambda f, _m: seen.append(f), cancel=lambda: True)
    async with database.session() as session:
        assert await sel.panel_draw(session, summit.id, "resident") is None


async def test_a_selected_member_who_withdraws_loses_the_seat_and_link(database: Any) -> None:
    async with database.session() as session:
        summit = await make_summit(session)
        parsed = lottery.parse_registration_form(
            form(feature_gender="x", feature_age_band="y"), summit, languages=["nl"]
        )
        tokens = [
            (await lottery.register_self(session, summit, "free_thinker", parsed, actor="p"))[1]
            for _ in range(4)
        ]
    async with database.session() as session:
        data = await sel.selection_input(session, summit, role="free_thinker", seats=2, panels=20)
        await sel.store_selection(session, summit, data, sel.compute_selection(data), actor="S")
        draw, links = await sel.finalise_selection(
            session, summit, role="free_thinker", seed=SEED, actor="S"
        )
    chosen = int(draw.result["panel"][0][1:])
    async with database.session() as session:
        link = await session.scalar(
            select(lottery.WithdrawalLink).where(lottery.WithdrawalLink.registration_id == chosen)
        )
        token = next(t for t in tokens if lottery.token_hash(t) == link.token_hash)
        await lottery.withdraw(session, token, actor="public")
        replaced = await sel.replace_withdrawn(session, summit, chosen, actor="public")
    assert len(replaced) == 1
    old_pseudonym = draw.result["participants"][f"R{chosen}"]
    async with database.session() as session:
        old = await session.scalar(
            select(Participant).where(Participant.pseudonym == old_pseudonym)
        )
        assert old is not None and old.status == "withdrawn"
        with pytest.raises(repository.LinkRejected):
            await repository.resolve_link(session, links[old_pseudonym])
        assert (await lottery.withdraw(session, token, actor="public")).status == "withdrawn"


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(lottery.MAPPING_FIELDS),
        st.text(alphabet="ABCXYZ_ abc09", min_size=1, max_size=10).filter(lambda t: t.strip()),
        min_size=0,
        max_size=6,
    )
)
def test_column_mappings_parse_back_or_name_the_missing_field(columns: dict[str, str]) -> None:
    text = ",".join(f"{k}={v}" for k, v in columns.items())
    if "id" in columns and "gender" in columns:
        mapping = lottery.parse_mapping(text)
        assert mapping.columns() == {k: v.strip() for k, v in columns.items()}
    else:
        with pytest.raises(InvalidInput) as caught:
            lottery.parse_mapping(text)
        assert caught.value.field in {"map_id", "map_gender"}


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789abcdef", min_size=1, max_size=12), st.sampled_from(" -."))
def test_a_code_typed_in_any_case_with_separators_is_the_same_code(
    pseudonym: str, separator: str
) -> None:
    code = lottery.invitation_code(SECRET, 3, pseudonym)
    typed = lottery.format_code(code).lower().replace("-", separator)
    assert lottery.token_hash(lottery.normalise_code(typed)) == lottery.token_hash(code)
