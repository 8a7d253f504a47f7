"""Documents attached to an adopted proposal: links, or PDFs checked by their bytes (pure rules).

A PDF is accepted only when its content starts with the PDF magic bytes ``%PDF-`` (the file name
and the browser's declared type are not trusted) and it is at most :data:`MAX_PDF_BYTES`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from summit.monitor.rules import MonitorInputError, _

MAX_PDF_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
_URL = re.compile(r"^https?://[^\s<>\"']+$")


@dataclass(frozen=True)
class CheckedPdf:
    size: int
    sha256: str


def check_pdf(data: bytes) -> CheckedPdf:
    if not data:
        raise MonitorInputError("file", _("the file is empty"))
    if len(data) > MAX_PDF_BYTES:
        raise MonitorInputError(
            "file",
            _("the file is %(size)s MB; the limit is %(limit)s MB"),
            size=f"{len(data) / 1_048_576:.1f}",
            limit=MAX_PDF_BYTES // 1_048_576,
        )
    if not data.startswith(PDF_MAGIC):
        raise MonitorInputError("file", _("only PDF files can be uploaded; this is not a PDF"))
    return CheckedPdf(len(data), hashlib.sha256(data).hexdigest())


def check_link(url: str) -> str:
    text = (url or "").strip()
    if not text:
        raise MonitorInputError("url", _("is required"))
    if len(text) > 500 or not _URL.match(text):
        raise MonitorInputError("url", _("use a web address that starts with https://"))
    return text
