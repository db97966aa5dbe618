"""HTML mail turned into safe plain text with the standard library's HTMLParser: scripts, styles and heads dropped,
blocks and line breaks kept as lines, list items as "- ", links as "text (url)" when the two differ, and quoted
history (`<blockquote>`) prefixed with "> " so the reply parser can cut it like a plain-text quote."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "table",
    "tr",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "address",
    "center",
    "form",
    "fieldset",
    "dl",
    "dt",
    "dd",
}
_VOID_SKIP = {"img", "input", "meta", "link", "base"}


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.link: str | None = None
        self.link_text: list[str] = []

    def _break(self) -> None:
        text = "".join(self.current)
        text = text if self.pre_depth else re.sub(r"[ \t\r\n\f\v\u00a0]+", " ", text).strip()
        self.lines.append(("> " * self.quote_depth) + text if text else ("> " * self.quote_depth).rstrip())
        self.current = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self._break()
        elif tag in _BLOCK or tag == "blockquote" or tag == "li":
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "li":
                self.current.append("- ")
            elif tag == "pre":
                self.pre_depth += 1
        elif tag == "a":
            self.link = dict(attrs).get("href") or None
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _BLOCK or tag in ("blockquote", "li"):
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
        elif tag == "a" and self.link:
            text = "".join(self.link_text).strip()
            if self.link.startswith(("http://", "https://")) and self.link not in text and text:
                self.current.append(f" ({self.link})")
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self.current.append(data)
        if self.link is not None:
            self.link_text.append(data)

    def text(self) -> str:
        if self.current:
            self._break()
        joined = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body; never raises on broken markup."""
    maker = _TextMaker()
    try:
        maker.feed(html or "")
        maker.close()
    except Exception:  # HTMLParser is lenient; anything it still chokes on leaves what was read so far
        pass
    return maker.text()
