"""MkDocs hook: the repository-root files the docs link to (`../ARCHITECTURE.md`, `../CHANGELOG.md`) become pages of
the site, and links to them from any page point at those pages. On GitHub the same links open the files themselves,
so one link works in both places."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT_PAGES = ("ARCHITECTURE.md", "CHANGELOG.md")
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def on_files(files, config):
    root = Path(config["config_file_path"]).parent
    for name in ROOT_PAGES:
        files.append(File.generated(config, name, abs_src_path=str(root / name)))
    return files


def on_page_markdown(markdown, page, config, files):
    """`../ARCHITECTURE.md` from docs/x.md (or `../../ARCHITECTURE.md` from docs/reference/x.md) → the site page;
    `docs/x.md` from ARCHITECTURE.md → `x.md`."""
    page_dir = posixpath.dirname(page.file.src_uri)
    # A root page's own links are relative to the repository's root: `docs/x.md` there is `x.md` in the site.
    base = "" if page.file.src_uri in ROOT_PAGES else posixpath.join("docs", page_dir)

    def relink(match: re.Match) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        if SCHEME.match(target) or target.startswith("/"):
            return match.group(0)  # http(s), mailto, absolute: not a file of the repository
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved.startswith("docs/"):
            return f"]({posixpath.relpath(resolved[len('docs/') :], page_dir or '.')}{anchor})"
        if resolved in ROOT_PAGES:
            return f"]({posixpath.relpath(resolved, page_dir or '.')}{anchor})"
        return match.group(0)

    return LINK.sub(relink, markdown)
