"""Open data formats (pure): CSV without spreadsheet formulas, Atom feeds, the export manifest.

The export manifest lists every file with its SHA-256; the digest over the data files (all but
the audit log) is also written into the hash-chained audit log (action ``export.publish``), and
that entry is the manifest's ``audit_head``. :func:`verify_export` therefore catches a changed data
file (its hash), a changed file *and* manifest (the logged digest), and a changed audit log (the
chain).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from summit.core.rules.audit_chain import ChainEntry, canonical_json, sha256_hex, verify_chain

FORMAT = "g1000-export-v1"
MANIFEST = "manifest.json"
AUDIT_FILES = ("audit.json", "audit.csv")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A CSV cell that no spreadsheet runs as a formula: a leading ``= + - @`` gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([neutralise(row.get(name)) for name in fields])
    return out.getvalue()


def to_json(value: Any) -> bytes:
    return (
        json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"
    ).encode()


@dataclass(frozen=True)
class AtomEntry:
    id: str
    title: str
    updated: dt.datetime
    link: str
    summary: str


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(
    *, feed_id: str, title: str, self_url: str, updated: dt.datetime, entries: Sequence[AtomEntry]
) -> str:
    """An Atom 1.0 feed (RFC 4287)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>{escape(feed_id)}</id>",
        f"  <title>{escape(title)}</title>",
        f"  <updated>{_stamp(updated)}</updated>",
        f'  <link rel="self" href={quoteattr(self_url)}/>',
        "  <author><name>G1000 Monitor</name></author>",
    ]
    for entry in entries:
        parts += [
            "  <entry>",
            f"    <id>{escape(entry.id)}</id>",
            f"    <title>{escape(entry.title)}</title>",
            f"    <updated>{_stamp(entry.updated)}</updated>",
            f"    <link href={quoteattr(entry.link)}/>",
            f"    <summary>{escape(entry.summary)}</summary>",
            "  </entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def data_digest(hashes: Mapping[str, str]) -> str:
    """SHA-256 over the canonical JSON of {file name: sha256} of the data files."""
    return sha256_hex(canonical_json(dict(sorted(hashes.items()))))


def file_hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: sha256_hex(data) for name, data in sorted(files.items())}


def build_manifest(
    files: Mapping[str, bytes],
    *,
    summit: Mapping[str, Any],
    audit_head: tuple[int, str],
    created_at: dt.datetime,
) -> dict[str, Any]:
    hashes = file_hashes(files)
    data = {n: h for n, h in hashes.items() if n not in AUDIT_FILES}
    return {
        "format": FORMAT,
        "summit": dict(summit),
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "audit_head": {"seq": audit_head[0], "hash": audit_head[1]},
        "data_sha256": data_digest(data),
        "files": {n: {"sha256": h, "bytes": len(files[n])} for n, h in hashes.items()},
    }


def chain_entries(audit_json: bytes) -> list[ChainEntry]:
    rows = json.loads(audit_json)["rows"]
    return [
        ChainEntry(
            seq=int(r["seq"]),
            prev_hash=str(r["prev_hash"]),
            created_at=str(r["created_at"]),
            summit_id=r["summit_id"],
            actor=str(r["actor"]),
            action=str(r["action"]),
            subject=str(r["subject"]),
            payload=dict(r["payload"]),
            payload_digest=str(r["payload_digest"]),
            entry_hash=str(r["entry_hash"]),
        )
        for r in rows
    ]


def _file_problems(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> list[str]:
    problems = []
    listed: Mapping[str, Any] = manifest.get("files", {})
    for name, facts in sorted(listed.items()):
        if name not in files:
            problems.append(f"{name}: missing")
        elif sha256_hex(files[name]) != facts.get("sha256"):
            problems.append(f"{name}: changed (SHA-256 differs from the manifest)")
    problems += [f"{name}: not in the manifest" for name in sorted(set(files) - set(listed))]
    return problems


def _audit_problems(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> list[str]:
    if "audit.json" not in files:
        return ["audit.json: missing"]
    try:
        entries = chain_entries(files["audit.json"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"audit.json: unreadable ({exc})"]
    report = verify_chain(entries)
    if not report.ok:
        return [f"audit.json: entry #{report.broken_seq}: {report.reason}"]
    head = manifest.get("audit_head", {})
    if not entries or (entries[-1].seq, entries[-1].entry_hash) != (
        head.get("seq"),
        head.get("hash"),
    ):
        return ["audit.json: its head is not the manifest's audit head"]
    last = entries[-1]
    data = {n: sha256_hex(d) for n, d in files.items() if n not in (*AUDIT_FILES, MANIFEST)}
    if last.action != "export.publish" or last.payload.get("data_sha256") != data_digest(data):
        return ["the data files do not match the digest logged in the audit head"]
    return []


def verify_export(files: Mapping[str, bytes]) -> list[str]:
    """Every problem with an exported folder (``files``: name → bytes, the manifest included);
    an empty list means the export is intact and matches its audit head."""
    if MANIFEST not in files:
        return [f"{MANIFEST}: missing"]
    try:
        manifest = json.loads(files[MANIFEST])
    except ValueError:
        return [f"{MANIFEST}: not JSON"]
    if manifest.get("format") != FORMAT:
        return [f"{MANIFEST}: unknown format {manifest.get('format')!r}"]
    others = {n: d for n, d in files.items() if n != MANIFEST}
    return _file_problems(manifest, others) + _audit_problems(manifest, others)
