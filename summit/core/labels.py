"""What people read instead of the keys the code uses: roles, attendance, table kinds and the
names of form fields, in the current language (looked up when the page is rendered).

Keys without a label (a wijk's name, a feature the organiser made up) are shown as they are;
the labels of the demographic questions are the organiser's (``summit.lottery.labels``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from summit.core.i18n import gettext as _
from summit.core.rules.roles import role_words


def role_label(key: object) -> str:
    return role_words(key)


def attendance_label(key: object) -> str:
    labels = {"venue": _("At the venue"), "online": _("Online"), "hybrid": _("Hybrid")}
    return labels.get(str(key), str(key))


def phase_label(key: object) -> str:
    """The summit's phase as the dashboard names it (``web/templates/_phase.html``)."""
    labels = {
        "coalition": _("Coalition"),
        "invitations": _("Invitations"),
        "registration": _("Registration"),
        "selection": _("Selection"),
        "summit": _("Summit day"),
        "forum": _("Citizens' forum"),
        "council": _("Citizens' council"),
        "monitor": _("Monitor"),
        "closed": _("Closed"),
    }
    return labels.get(str(key), str(key))


def staff_role_label(key: object) -> str:
    labels = {"organiser": _("Organiser"), "moderator": _("Moderator")}
    return labels.get(str(key), str(key))


def round_status_label(key: object) -> str:
    labels = {"planned": _("planned"), "open": _("open"), "closed": _("closed")}
    return labels.get(str(key), str(key))


def field_label(key: object) -> str:
    """The name of a form field as the form shows it (for "Please correct the field …")."""
    labels = {
        "name": _("Name"),
        "municipality": _("Municipality"),
        "date": _("Date"),
        "mix": _("Mix of roles"),
        "seats": _("Seats"),
        "table_size": _("Table size"),
        "languages": _("Languages"),
        "default_language": _("Default language"),
        "features": _("Features to spread"),
        "time_zone": _("Time zone"),
        "venue": _("Venue"),
        "reply_by": _("Reply by"),
        "sender_name": _("Sender's name"),
        "sender_function": _("Sender's position"),
        "contact_email": _("Contact e-mail address"),
        "contact_phone": _("Contact telephone number"),
        "consent": _("Consent"),
        "first_name": _("First name"),
        "email": _("E-mail address"),
        "role": _("Role"),
        "attendance": _("Attendance"),
        "phase": _("Phase"),
        "commitment": _("Commitment"),
        "signed_on": _("Signed on"),
        "sample_size": _("Number of letters"),
        "seed": _("Seed"),
        "file": _("File"),
        "title": _("Title"),
        "body": _("Text"),
        "text": _("Text"),
        "minutes": _("Minutes"),
        "kind": _("Kind"),
        "username": _("Username"),
        "password": _("Password"),
        "action": _("Action"),
        "vote": _("Vote"),
        "round": _("Round"),
        "table": _("Table"),
        "proposal": _("Proposal"),
        "proposals": _("Proposals"),
        "theme": _("Theme"),
        "label": _("Name"),
        "duration": _("Duration"),
        "programme": _("Programme"),
        "topics": _("Topics"),
        "first": _("First choice"),
        "second": _("Second choice"),
        "absent": _("Absent"),
        "undo": _("Undo"),
        "granularity": _("Number of themes"),
        "source": _("Source"),
        "language": _("Language"),
        "tolerance": _("Tolerance"),
        "status": _("Status"),
        "verdict": _("Assessment"),
        "who_records": _("Who records the ideas"),
        "votes_per_participant": _("Votes per participant"),
        "max_length": _("Maximum length"),
        "forum_room_opens_before": _("The room opens before the meeting"),
        "forum_room_closes_after": _("The room closes after the meeting"),
        "response_due": _("Response due"),
        "report_every_weeks": _("Report every so many weeks"),
        "rounds": _("Rounds"),
        "stance": _("Stance"),
        "subject": _("Subject"),
        "cites": _("Sources"),
        "areas": _("Areas"),
        "membership": _("Membership"),
        "member_roles": _("Member roles"),
        "member_list": _("Member list"),
        # the register's columns
        "id": _("Identifier (BSN)"),
        "gender": _("Gender"),
        "birth_date": _("Date of birth"),
        "age": _("Age"),
        "age_band": _("Age"),
        "district": _("District"),
        "postcode": _("Postcode"),
        "household": _("Household"),
        "address": _("Address"),
        "origin": _("Origin"),
        "education": _("Education"),
        # more form fields named by refusals
        "closes_at": _("Closes at"),
        "starts_at": _("Starts at"),
        "meeting_date": _("Meeting date"),
        "meeting_name": _("Meeting name"),
        "max_per_item": _("Most dots per item"),
        "shortlist_size": _("Shortlist size"),
        "participant": _("Participant"),
        "reason": _("Reason"),
        "phone": _("Telephone"),
        "place": _("Place"),
        "ends_on": _("End date"),
        "report_due": _("First report due"),
        "agree": _("Agreement"),
        "confirm": _("Confirmation"),
        "code": _("Code"),
        "voters": _("Voters"),
        "milestone": _("Milestone"),
        "workshop": _("Workshop"),
        "dice_digits": _("Dice digits"),
        "dropout_rates": _("Dropout rates"),
        "algorithm": _("Algorithm"),
        "panels": _("Panels"),
        "member": _("Member"),
        "capacity": _("Capacity"),
        "arrived": _("Arrived"),
        "statement": _("Statement"),
        "reaction": _("Reaction"),
        "url": _("Link"),
        "method": _("Method"),
        "item": _("Item"),
        "choices": _("Choices"),
    }
    return labels.get(str(key), str(key))


def built_in_feature_labels() -> dict[str, str]:
    """Labels of the common feature keys and values (the registration form's too), in the
    current language (call it at render time)."""
    return {
        "age_band": _("Age"),
        "gender": _("Gender"),
        "district": _("District"),
        "origin": _("Origin"),
        "education": _("Education"),
        "female": _("Woman"),
        "male": _("Man"),
        "other": _("Other"),
        "unknown": _("I would rather not say"),
    }


def feature_labels(features: Iterable[Mapping[str, Any]], lang: str) -> dict[str, dict[str, str]]:
    """Per feature: its question's label under ``"_"`` and each value's label, in ``lang``: the
    organiser's labels (``Summit.features[i]["labels"][lang]``), else the built-in ones. Use
    ``.get(key, key)``: a key without a label (a wijk's name) is its own label."""
    built_in = built_in_feature_labels()
    out: dict[str, dict[str, str]] = {}
    for feature in features:
        name = str(feature.get("name", ""))
        labels = feature.get("labels") or {}
        own = labels.get(lang) if isinstance(labels, Mapping) else None
        own = own if isinstance(own, Mapping) else {}
        values = [str(v) for v in feature.get("values", []) or []]
        chosen = {key: built_in[key] for key in [name, *values, *built_in] if key in built_in}
        chosen |= {str(k): str(v) for k, v in own.items() if v}
        chosen["_"] = chosen.pop("_", "") or built_in.get(name, name)
        out[name] = chosen
    return out
