"""Load stage: read a folder (or files) into ``Document`` records.

Supported: .txt and .md (the text as is), .html/.htm (visible text, title and
publication date from common meta tags), .jsonl (one article per line with at
least ``id`` and ``text``).  Any article file may have a sidecar ``FILE.meta.json``
beside it with ``title``, ``date``, ``url`` and ``source``; it wins over what the
file itself says.  Anything that cannot be read becomes a
``Skipped`` record naming the file and the reason; loading never raises for a
bad input file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from .records import Document, Skipped

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
JSONL_FIELDS = ("title", "url", "date", "source")
SIDECAR_SUFFIX = ".meta.json"


class InputError(Exception):
    """A user error about the input as a whole (e.g. the folder does not exist)."""


@dataclass
class Corpus:
    """The documents read and the inputs that were skipped, in a stable order."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: "Corpus") -> None:
        self.documents.extend(other.documents)
        self.skipped.extend(other.skipped)


def load_path(path: str | os.PathLike) -> Corpus:
    """Load a folder recursively, or a single file."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such file or folder")
    if root.is_file():
        return _deduplicate_ids(load_file(root, root.name))
    if not root.is_dir():
        raise InputError(f"{root}: not a file or folder")
    corpus = Corpus()
    for file in _walk(root):
        if file.name.endswith(SIDECAR_SUFFIX):
            continue   # read with the file it describes
        corpus.extend(load_file(file, file.relative_to(root).as_posix()))
    return _deduplicate_ids(corpus)


def _walk(root: Path) -> list[Path]:
    """Files under ``root``, sorted, hidden files and folders left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath, f) for f in filenames if not f.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_file(file: Path, doc_id: str) -> Corpus:
    """Read one file.  ``doc_id`` is the id given to it (its path relative to the scan root)."""
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Corpus(skipped=[Skipped(doc_id, f"unsupported file type '{suffix or '(none)'}'")])
    try:
        text = read_text(file)
    except UnreadableFile as err:
        return Corpus(skipped=[Skipped(doc_id, str(err))])
    if suffix in JSONL_SUFFIXES:
        return parse_jsonl(text, doc_id)
    if suffix in HTML_SUFFIXES:
        page = parse_html(text)
        title, body, date = page.title, page.text, page.date
    else:
        title, body, date = first_line(text), text, None
    if not body.strip():
        return Corpus(skipped=[Skipped(doc_id, "no text (empty file)" if not text.strip() else "no visible text")])
    document = Document(id=doc_id, text=body, title=title, date=date, path=doc_id)
    meta, problem = read_sidecar(file)
    skipped = [Skipped(doc_id + SIDECAR_SUFFIX, problem)] if problem else []
    return Corpus(documents=[replace(document, **meta)], skipped=skipped)


def read_sidecar(file: Path) -> tuple[dict, str | None]:
    """Metadata from ``FILE.meta.json`` if present; a bad sidecar is reported, never fatal."""
    sidecar = file.with_name(file.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}, None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return {}, f"sidecar ignored: {err}"
    if not isinstance(meta, dict):
        return {}, "sidecar ignored: expected a JSON object"
    return {k: str(meta[k]) for k in JSONL_FIELDS if meta.get(k) is not None}, None


class UnreadableFile(Exception):
    pass


def read_text(file: Path) -> str:
    """Read a file as UTF-8, refusing binary content with a reason a person can act on."""
    try:
        data = file.read_bytes()
    except PermissionError:
        raise UnreadableFile("unreadable: permission denied") from None
    except FileNotFoundError:
        raise UnreadableFile("unreadable: file vanished or is a broken link") from None
    except OSError as err:
        raise UnreadableFile(f"unreadable: {err.strerror or err}") from None
    if not data.strip():
        raise UnreadableFile("no text (empty file)")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UnreadableFile(f"invalid UTF-8 at byte {err.start}") from None


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def parse_jsonl(text: str, file_id: str) -> Corpus:
    """One document per line; a bad line is skipped with its line number and reason."""
    corpus = Corpus()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        document, problem = parse_record(line)
        if problem:
            corpus.skipped.append(Skipped(file_id, problem, line=number))
        else:
            corpus.documents.append(document)
    return corpus


def parse_record(line: str) -> tuple[Document | None, str | None]:
    """Parse one JSONL line into a Document, or return the reason it is not one."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return None, f"malformed JSON: {err.msg} at column {err.colno}"
    if not isinstance(obj, dict):
        return None, "malformed record: expected a JSON object"
    if "id" not in obj or obj["id"] in (None, ""):
        return None, "missing 'id'"
    if not isinstance(obj.get("text"), str):
        return None, "missing 'text'" if "text" not in obj else "'text' is not a string"
    if not obj["text"].strip():
        return None, "empty 'text'"
    extras = {name: (str(obj[name]) if obj.get(name) is not None else None) for name in JSONL_FIELDS}
    return Document(id=str(obj["id"]), text=obj["text"], title=extras["title"] or first_line(obj["text"]),
                    date=extras["date"], url=extras["url"], source=extras["source"]), None


def _deduplicate_ids(corpus: Corpus) -> Corpus:
    seen: set[str] = set()
    kept = []
    for doc in corpus.documents:
        if doc.id in seen:
            corpus.skipped.append(Skipped(doc.path or doc.id, f"duplicate document id '{doc.id}'"))
            continue
        seen.add(doc.id)
        kept.append(doc)
    corpus.documents = kept
    return corpus


# --- HTML ------------------------------------------------------------------

_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "nav", "aside", "blockquote", "pre", "table", "tr", "td", "th", "figure",
    "figcaption", "main", "hr", "dd", "dt", "form", "title",
}
# Meta tags that carry a publication date, most specific first.
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate",
    "publishdate", "publish-date", "publish_date", "dc.date", "dc.date.issued", "dcterms.created",
    "sailthru.date", "parsely-pub-date", "article.published", "og:updated_time",
)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')


@dataclass
class Page:
    title: str
    text: str
    date: str | None


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.time_datetime: str | None = None
        self.jsonld: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self._in_jsonld = False

    def handle_starttag(self, tag, attrs):
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or "").lower()
            if key and attributes.get("content"):
                self.meta.setdefault(key, attributes["content"].strip())
        elif tag == "time" and self.time_datetime is None and attributes.get("datetime"):
            self.time_datetime = attributes["datetime"].strip()
        if tag == "title":
            self._in_title = True
        if tag == "script" and "ld+json" in attributes.get("type", ""):
            self._in_jsonld = True
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "script":
            self._in_jsonld = False
        if tag in _SKIP_TAGS and self._skip_depth:
            self._skip_depth -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title_parts.append(data)
        if self._in_jsonld:
            self.jsonld.append(data)
        if not self._skip_depth:
            self.parts.append(data)


def parse_html(html: str) -> Page:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    text = "\n".join(" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    title = " ".join("".join(parser.title_parts).split()) or parser.meta.get("og:title", "")
    date = next((parser.meta[k] for k in _DATE_META if parser.meta.get(k)), None)
    if date is None:
        found = _JSONLD_DATE.search("".join(parser.jsonld))
        date = found.group(1) if found else parser.time_datetime
    return Page(title=title, text=text, date=date)
