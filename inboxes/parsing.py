"""One raw mail read into what the helpdesk keeps (docs/channels.md), with the standard library's `email` package
(`policy.default`): the threading headers, the addresses, the text (HTML-only mail made plain), the reply without
its quoted history, the files, and whether it is an auto-reply or a delivery status report.

Any charset or transfer encoding the mail declares is decoded; an unknown or wrong one falls back to UTF-8 and then
Latin-1, and a header the parser cannot read is treated as missing, so a broken mail is imported, never refused.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from mailparser_reply import EmailReplyParser

from inboxes.htmltext import html_to_text

REPLY_LANGUAGES = ["en", "de", "fr"]
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DSN_HEADERS_TYPES = {
    "message/rfc822",
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global",
    "message/global-headers",
}
_reply_parser = EmailReplyParser(languages=REPLY_LANGUAGES)


@dataclass(frozen=True)
class MailFile:
    filename: str
    content: bytes
    content_type: str
    content_id: str = ""


@dataclass
class Bounce:
    """What a delivery status report says about the mail it returns."""

    original_message_ids: list[str]
    reason: str


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    full_text: str
    reply: str
    auto_submitted: bool
    bounce: Bounce | None = None
    files: list[MailFile] = field(default_factory=list)
    language: str = ""

    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, most direct first: In-Reply-To, then References from the newest; a bounce
        answers the mail it returns."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        ids += self.bounce.original_message_ids if self.bounce is not None else []
        return list(dict.fromkeys(ids))


def parse_mail(raw: bytes) -> ParsedMail:
    """Read a raw mail; never raises for a malformed one (what cannot be read is left empty)."""
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    body_part = _body_part(mail)
    full_text = _part_text(body_part) if body_part is not None else ""
    from_name, from_address = _first_address(mail, "From")
    bounce = _bounce(mail, raw)
    return ParsedMail(
        message_id=(_message_ids(_header(mail, "Message-ID")) or [""])[0],
        in_reply_to=(_message_ids(_header(mail, "In-Reply-To")) or [""])[-1],
        references=_message_ids(_header(mail, "References")),
        subject=_one_line(_header(mail, "Subject"))[:998],
        from_name=from_name,
        from_address=from_address,
        to=_addresses(mail, "To"),
        cc=_addresses(mail, "Cc"),
        full_text=full_text,
        reply=reply_text(full_text),
        auto_submitted=bounce is not None or is_auto_reply(mail),
        bounce=bounce,
        files=[] if bounce is not None else list(_files(mail, body_part)),
        language=_language(mail, body_part),
    )


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


def _language(mail, body_part) -> str:
    """The language the sender wrote in, as mail clients declare it (Outlook: `Content-Language` and
    `Accept-Language`; others on the text part): the first tag, lower case, e.g. `de-de`; "" when none is declared."""
    for source, name in ((body_part, "Content-Language"), (mail, "Content-Language"), (mail, "Accept-Language")):
        if source is None:
            continue
        for candidate in _header(source, name).replace(";", ",").split(","):
            candidate = candidate.strip()
            if _LANGUAGE_TAG.match(candidate):
                return candidate.lower().replace("_", "-")
    return ""


def digest_message_id(raw: bytes, inbox_id: int) -> str:
    """The stable id of a mail that carries no Message-ID: the same bytes always get the same id."""
    return f"<{hashlib.sha256(raw).hexdigest()}@inbox-{inbox_id}.helpdesk>"


def reply_text(text: str) -> str:
    """The newest reply of a mail's text: quoted history ("On … wrote", "Am … schrieb", "Le … a écrit", Outlook's
    From:/Sent: block, "> " lines) cut away. The whole text when nothing is left (a bare forward)."""
    if not text.strip():
        return ""
    try:
        latest = _reply_parser.parse_reply(text=text) or ""
    except Exception:  # a regex edge case in the parser must not lose the mail
        latest = text
    latest = _drop_trailing_quote(latest).strip()
    return latest or text.strip()


_SEPARATOR = re.compile(r"^\s*[_\-=]{5,}\s*$")
_ATTRIBUTION = re.compile(r"(@|\bwrote\b|\bschrieb\b|a écrit)", re.IGNORECASE)


def _drop_trailing_quote(text: str) -> str:
    """Cut what the reply parser leaves at the end: "> " lines, separator lines, and the attribution line that
    introduced them ("* Support <support@…> [2026-12-01 19:45]:")."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines:
        last = lines[-1].strip()
        quoted_before = len(lines) < len(text.split("\n"))
        if (
            not last
            or last.startswith(">")
            or _SEPARATOR.match(last)
            or quoted_before
            and last.endswith(":")
            and _ATTRIBUTION.search(last)
        ):
            lines.pop()
        else:
            break
    return "\n".join(lines)


def is_auto_reply(mail: Message) -> bool:
    """RFC 3834 and the common vendor headers: Auto-Submitted other than `no`, Precedence bulk/junk/list,
    X-Autoreply / X-Autorespond, or an empty Return-Path with a mailer daemon sender."""
    auto_submitted = _header(mail, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if _header(mail, "Precedence").strip().lower() in _AUTO_PRECEDENCE:
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        value = _header(mail, name).strip().lower()
        if value and value not in ("no", "false", "0"):
            return True
    return False


def clean_text(value: str) -> str:
    """Text safe to store: raw 8-bit bytes the parser kept as surrogates are read as UTF-8 (what clients that do
    not encode headers send), anything undecodable becomes U+FFFD, NULs are dropped."""
    if not value:
        return ""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")


def _header(mail: Message, name: str) -> str:
    """A header as text; a header the parser cannot decode is read raw, and an unreadable one is empty."""
    try:
        value = mail.get(name)
        return "" if value is None else clean_text(str(value))
    except Exception:
        try:
            raw = mail.get_all(name, failobj=[])
            return clean_text(str(raw[0])) if raw else ""
        except Exception:
            return ""


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _message_ids(value: str) -> list[str]:
    """The `<id>` tokens of a header; a bare id without brackets gets them."""
    found = _MESSAGE_ID.findall(value or "")
    if not found and value and value.strip() and " " not in value.strip() and "@" in value:
        found = [f"<{value.strip().strip('<>')}>"]
    return [item[:500] for item in found]


def _addresses(mail: Message, name: str) -> list[str]:
    pairs = _address_pairs(mail, name)
    return [email.utils.formataddr((n, a)) if n else a for n, a in pairs if a][:100]


def _address_pairs(mail: Message, name: str) -> list[tuple[str, str]]:
    try:
        header = mail.get(name)
        if header is not None and getattr(header, "addresses", None) is not None:
            pairs = [(clean_text(a.display_name or ""), clean_text(a.addr_spec or "")) for a in header.addresses]
            if any(addr for _, addr in pairs):
                return [(n, a.strip()) for n, a in pairs if "@" in a]
    except Exception:
        pass
    raw = clean_text(", ".join(str(v) for v in (mail.get_all(name, failobj=[]) or [])))
    return [(n, a.strip()) for n, a in email.utils.getaddresses([raw]) if "@" in a]


def _first_address(mail: Message, name: str) -> tuple[str, str]:
    pairs = _address_pairs(mail, name)
    if not pairs:
        return "", ""
    display, address = pairs[0]
    return _one_line(display)[:300], address[:320]


def _body_part(mail: Message) -> Message | None:
    """The part that carries the text: plain preferred, HTML otherwise (the first readable one)."""
    if isinstance(mail, EmailMessage):
        try:
            part = mail.get_body(preferencelist=("plain", "html"))
            if part is not None:
                return part
        except Exception:
            pass
    for part in mail.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            return part
    return None


def _decoded_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return payload


def _decode(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace") if charset is None else data.decode("latin-1")


def _part_text(part: Message) -> str:
    """A text part's content as plain text (HTML converted), line endings made \\n."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = _decode(_decoded_bytes(part), charset).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return clean_text(text).strip()


def _files(mail: Message, body_part: Message | None):
    """Attachments and inline parts; a forwarded mail (message/rfc822) is one `.eml` file, not walked into."""
    stack = [mail]
    while stack:
        part = stack.pop(0)
        if part is body_part:
            continue
        content_type = part.get_content_type()
        if part.is_multipart() and content_type != "message/rfc822":
            stack[0:0] = list(part.iter_parts()) if isinstance(part, EmailMessage) else part.get_payload()
            continue
        if part is mail:
            continue
        yield from _file_of(part, content_type)


def _file_of(part: Message, content_type: str):
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    disposition = (part.get_content_disposition() or "").lower()
    content_id = _one_line(str(part.get("Content-ID") or "")).strip("<>")
    if content_type == "message/rfc822":
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else _decoded_bytes(part)
        yield MailFile(filename or "forwarded-message.eml", data, content_type, content_id)
        return
    if content_type.startswith("text/") and not filename and disposition != "attachment":
        return  # an alternative text or HTML body, not a file
    if not filename and not content_id and disposition != "attachment":
        return
    yield MailFile(
        filename or f"attachment.{content_type.split('/')[-1][:10]}", _decoded_bytes(part), content_type, content_id
    )


# Delivery status reports (RFC 3464) and the bounces that look like them.
_DIAGNOSTIC = re.compile(
    r"^(Diagnostic-Code|Status|Action|Final-Recipient|X-Postfix-Sender)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE
)
_ORIGINAL_ID = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _is_report(mail: Message) -> bool:
    if mail.get_content_type() == "multipart/report":
        return (mail.get_param("report-type") or "").lower() in ("delivery-status", "")
    sender = _first_address(mail, "From")[1].lower()
    subject = _header(mail, "Subject").lower()
    daemon = sender.split("@")[0] in ("mailer-daemon", "postmaster")
    return daemon and any(
        word in subject
        for word in (
            "undeliver",
            "delivery status",
            "returned mail",
            "failure notice",
            "delivery failure",
            "unzustellbar",
        )
    )


def _bounce(mail: Message, raw: bytes) -> Bounce | None:
    if not _is_report(mail):
        return None
    status_text, headers_text = [], []
    for part in mail.walk():
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            status_text.append(_block_text(part))
        elif content_type in _DSN_HEADERS_TYPES:
            headers_text.append(_block_text(part))
    reason = _reason("\n".join(status_text) or raw.decode("utf-8", "replace"))
    own_id = set(_message_ids(_header(mail, "Message-ID")))
    searched = "\n".join(headers_text) or raw.decode("utf-8", "replace")
    ids = [found for found in _ORIGINAL_ID.findall(searched) if found not in own_id]
    return Bounce(original_message_ids=list(dict.fromkeys(ids)), reason=reason)


def _block_text(part: Message) -> str:
    """The text of a DSN block or of an attached original (headers only are needed)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = []
        for item in payload:
            try:
                chunks.append(item.as_string() if isinstance(item, Message) else str(item))
            except Exception:
                chunks.append("\n".join(f"{k}: {v}" for k, v in item.items()))
        return "\n".join(chunks)
    return _decode(_decoded_bytes(part), None)


def _reason(text: str) -> str:
    fields: dict[str, str] = {}
    for name, value in _DIAGNOSTIC.findall(text):
        fields.setdefault(name.lower(), _one_line(value))
    diagnostic, status = fields.get("diagnostic-code", ""), fields.get("status", "")
    recipient = fields.get("final-recipient", "").split(";")[-1].strip()
    parts = [f"{status}" if status else "", diagnostic]
    reason = " ".join(p for p in parts if p) or "The receiving server returned the mail."
    return (f"{recipient}: {reason}" if recipient else reason)[:1000]
