"""Load stage: read a folder (or files) into ``Document`` records, one file at a time.

Supported: .txt and .md (the text as is), .html/.htm (the article's main text
through trafilatura, navigation, related links and footers left out, the whole
visible text where it finds none; title, publication date and site name from the
page's metadata), .jsonl (one article per line with at least ``id``
and ``text``).  Any article file may have a sidecar ``FILE.meta.json`` beside it
with ``title``, ``date``, ``url`` and ``source``; it wins over what the file
itself says.

Encodings: a byte-order mark is honoured (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
without one, valid UTF-8 is read as UTF-8; anything else goes to a detector
(charset-normalizer; an HTML page's own ``<meta charset>`` is tried first).  The
encoding used is recorded in ``Document.encoding``.

Anything that cannot be read becomes a ``Skipped`` record naming the file (and
line) and the reason — binary content, no encoding that fits, a file over the
per-document size cap (``DEFAULT_MAX_BYTES``, 10 MiB; ``max_bytes=``), a folder
that cannot be listed, a duplicate id.  Metadata that is present but unusable
(a JSONL date of "nan" or ``{"y": 2020}``) is dropped with a ``LoadWarning`` in
``Corpus.warnings``; the document itself is kept.  Loading never raises for a
bad input file; ``iter_path`` streams, so a folder bigger than memory is fine as
long as each document fits.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from .records import Document, LoadWarning, Skipped

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
JSONL_FIELDS = ("title", "url", "date", "source")
SIDECAR_SUFFIX = ".meta.json"

# Largest document read, in bytes as stored (a .txt/.html file, or one JSONL line).
# News articles are a few kB to a few hundred kB; matching needs about 100 times a
# document's size in memory, so 10 MiB keeps even one outlier well below a gigabyte.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class InputError(Exception):
    """A user error about the input as a whole (e.g. the folder does not exist)."""


@dataclass
class Corpus:
    """The documents read, the inputs that were skipped and warnings, in a stable order."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)

    def extend(self, other: "Corpus") -> None:
        self.documents.extend(other.documents)
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)

    def add(self, item: "Document | Skipped | LoadWarning") -> None:
        if isinstance(item, Document):
            self.documents.append(item)
        elif isinstance(item, LoadWarning):
            self.warnings.append(item)
        else:
            self.skipped.append(item)


def load_path(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
              select: Callable[[str], bool] | None = None) -> Corpus:
    """Load a folder recursively, or a single file, into memory (see ``iter_path``)."""
    corpus = Corpus()
    for item in iter_path(path, max_bytes=max_bytes, select=select):
        corpus.add(item)
    return corpus


def iter_path(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
              select: Callable[[str], bool] | None = None) -> Iterator[Document | Skipped | LoadWarning]:
    """Documents, skipped inputs and warnings of a folder (recursively) or one file, one at a time.

    ``select``: in a folder, read only the files whose relative path it accepts (``--include``
    and ``--exclude`` globs); problems with folders are reported all the same.

    Files come in the order of their relative paths; only one file (for JSONL, one
    line) is held in memory at once.  A document id seen before is yielded as a
    ``Skipped`` naming where it was first read.  Raises ``InputError`` only when
    ``path`` itself does not exist or is not a file or folder."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be at least 1")
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such file or folder")
    if root.is_file():
        entries: Iterator[tuple[Path, str] | Skipped] = iter([(root, root.name)])
    elif root.is_dir():
        entries = _walk(root)
    else:
        raise InputError(f"{root}: not a file or folder")
    seen: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Skipped):
            yield entry
            continue
        file, file_id = entry
        if select is not None and root.is_dir() and not select(file_id):
            continue
        for item, line in _read_file(file, file_id, max_bytes):
            if isinstance(item, Document):
                where = f"{file_id}:{line}" if line is not None else file_id
                if item.id in seen:
                    yield Skipped(file_id, f"duplicate document id '{item.id}' (first read from {seen[item.id]})",
                                  line=line)
                    continue
                seen[item.id] = where
            yield item


def _walk(root: Path) -> Iterator[tuple[Path, str] | Skipped]:
    """Files under ``root`` as (path, id), sorted by id, hidden files and folders left out;
    a folder that cannot be listed, or a link to a folder (not followed), as ``Skipped``."""
    found: list[tuple[str, Path | None, str | None]] = []

    def relative(name: str | os.PathLike) -> str:
        try:
            rel = Path(name).relative_to(root).as_posix()
        except ValueError:
            rel = str(name)
        return rel if rel != "." else "."

    def onerror(err: OSError) -> None:
        reason = "permission denied" if isinstance(err, PermissionError) else (err.strerror or str(err))
        found.append((relative(err.filename or root) + "/", None, f"unreadable folder: {reason}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        visible = sorted(d for d in dirnames if not d.startswith("."))
        dirnames[:] = []
        for d in visible:
            if Path(dirpath, d).is_symlink():
                found.append((relative(Path(dirpath, d)) + "/", None, "link to a folder, not followed"))
            else:
                dirnames.append(d)
        for f in filenames:
            if f.startswith(".") or f.endswith(SIDECAR_SUFFIX):
                continue   # hidden, or a sidecar read with the file it describes
            file = Path(dirpath, f)
            found.append((relative(file), file, None))
    for rel, file, problem in sorted(found, key=lambda entry: entry[0]):
        yield Skipped(rel, problem) if problem else (file, rel)


def load_file(file: Path, doc_id: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Corpus:
    """Read one file.  ``doc_id`` is the id given to it (its path relative to the scan root)."""
    corpus = Corpus()
    for item, _ in _read_file(file, doc_id, max_bytes):
        corpus.add(item)
    return corpus


def _read_file(file: Path, doc_id: str, max_bytes: int) -> Iterator[tuple[Document | Skipped | LoadWarning, int | None]]:
    """What one file gives, each with its line number (JSONL) or None."""
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(doc_id, f"unsupported file type '{suffix or '(none)'}'"), None
        return
    try:
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(file, doc_id, max_bytes)
            return
        data = read_bytes(file, max_bytes)
        text, encoding = decode(data, html=suffix in HTML_SUFFIXES)
    except UnreadableFile as err:
        yield Skipped(doc_id, str(err)), None
        return
    if suffix in HTML_SUFFIXES:
        page = extract_html(text)
        title, body, date, source = page.title, page.text, page.date, page.site
    else:
        title, body, date, source = first_line(text), text, None, None
    if not body.strip():
        yield Skipped(doc_id, "no text (empty file)" if not text.strip() else "no visible text"), None
        return
    document = Document(id=doc_id, text=body, title=title, date=date, source=source, path=doc_id,
                        encoding=encoding)
    meta, problem, warnings = read_sidecar(file)
    if problem:
        yield Skipped(doc_id + SIDECAR_SUFFIX, problem), None
    for warning in warnings:
        yield LoadWarning(doc_id + SIDECAR_SUFFIX, warning), None
    yield replace(document, **meta), None


def read_sidecar(file: Path) -> tuple[dict, str | None, list[str]]:
    """Metadata from ``FILE.meta.json`` if present; a bad sidecar is reported, never fatal.

    Returns (fields, problem, warnings)."""
    sidecar = file.with_name(file.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}, None, []
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return {}, f"sidecar ignored: {err}", []
    if not isinstance(meta, dict):
        return {}, "sidecar ignored: expected a JSON object", []
    fields, warnings = _metadata(meta)
    return {k: v for k, v in fields.items() if v is not None}, None, warnings


class UnreadableFile(Exception):
    pass


def read_bytes(file: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, or ``UnreadableFile`` with a reason a person can act on."""
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise UnreadableFile(f"too large: {_size(size)}, over the per-document limit of {_size(max_bytes)} "
                                 f"(max_bytes)")
        with _open(file) as stream:
            data = stream.read(max_bytes + 1)
    except OSError as err:
        raise UnreadableFile(f"unreadable: {err.strerror or err}") from None
    if len(data) > max_bytes:   # grew while we looked, or a device file
        raise UnreadableFile(f"too large: over the per-document limit of {_size(max_bytes)} (max_bytes)")
    return data


def read_text(file: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A file's text, decoded as ``decode`` does."""
    return decode(read_bytes(file, max_bytes))[0]


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


# --- Encodings -------------------------------------------------------------

_BOMS = (   # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
# WHATWG: pages labelled Latin-1 or ASCII are read as windows-1252.
_LABEL_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254"}
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v", "\x1b", "\x1a"}


def decode(data: bytes, html: bool = False) -> tuple[str, str]:
    """Text and the name of the encoding it was read with; ``UnreadableFile`` if not text.

    Order: byte-order mark; UTF-16 without one (recognised by its NUL bytes);
    strict UTF-8; for HTML its ``<meta charset>``; then charset-normalizer, which
    prefers windows-1252 among equally good single-byte guesses."""
    if not data.strip():
        raise UnreadableFile("no text (empty file)")
    for bom, name, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as err:
                raise UnreadableFile(f"invalid {name.upper()} at byte {err.start}") from None
            return _check_text(text), name
    if b"\x00" in data[:8192]:
        name = _utf16_without_bom(data)
        if name is None:
            raise UnreadableFile("binary file (contains NUL bytes), not text")
        try:
            return _check_text(data.decode(name)), name
        except UnicodeDecodeError:
            raise UnreadableFile("binary file (contains NUL bytes), not text") from None
    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as err:
        utf8_error = err.start
    if html:
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            name = _codec_name(declared.group(1).decode("ascii", "replace"))
            if name and name not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
                try:
                    return _check_text(data.decode(name)), name
                except (UnicodeDecodeError, LookupError):
                    pass
    return _detect(data, utf8_error)


def _codec_name(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _LABEL_ALIASES.get(name, name)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:8192]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.4 and zeros_even < 0.02:
        return "utf-16-le"
    if zeros_even > 0.4 and zeros_odd < 0.02:
        return "utf-16-be"
    return None


def _detect(data: bytes, utf8_error: int) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise UnreadableFile(f"not text: invalid UTF-8 at byte {utf8_error} and no other encoding fits")
    best = matches[0]
    try:
        name = codecs.lookup(best.encoding).name
    except LookupError:
        name = best.encoding
    # UTF-8 and ASCII are its last resort, with errors replaced (we tried UTF-8 already);
    # UTF-16/32 without a BOM or NUL bytes is a guess about noise.
    if name in ("utf-8", "ascii") or name.startswith(("utf-16", "utf-32")):
        raise UnreadableFile(f"not text: invalid UTF-8 at byte {utf8_error} and no other encoding fits")
    text = str(best)
    # Short or plain Latin text gives several guesses that tie (cp1250, cp1252, ...);
    # windows-1252 is by far the most common legacy encoding of news text, so it
    # wins a tie, and names the result whenever it reads the bytes the same way.
    tied = [m for m in matches if m.chaos == best.chaos and m.coherence == best.coherence]
    if name != "cp1252":
        try:
            as_1252 = data.decode("cp1252")
        except UnicodeDecodeError:
            as_1252 = None
        if as_1252 is not None and (as_1252 == text or any(m.encoding == "cp1252" for m in tied)):
            name, text = "cp1252", as_1252
    return _check_text(text), name


def _check_text(text: str) -> str:
    """Refuse decoded text that is mostly control characters (binary read as text)."""
    sample = text[:20000]
    controls = sum(1 for ch in sample if ch < " " and ch not in _ALLOWED_CONTROLS or "\x7f" <= ch < "\xa0")
    if sample and controls > max(2, len(sample) // 50):
        raise UnreadableFile("binary file (control characters), not text")
    return text


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


# --- JSONL -----------------------------------------------------------------

def _open(file: Path):
    """The file opened for reading bytes; the usual failures as one-line reasons."""
    try:
        return open(file, "rb")
    except PermissionError:
        raise UnreadableFile("unreadable: permission denied") from None
    except FileNotFoundError:
        raise UnreadableFile("unreadable: file vanished or is a broken link") from None
    except IsADirectoryError:
        raise UnreadableFile("unreadable: is a folder") from None


def _read_jsonl(file: Path, file_id: str, max_bytes: int) -> Iterator[tuple[Document | Skipped | LoadWarning, int | None]]:
    """One document per line, streamed; a bad line is skipped with its line number and reason."""
    with _open(file) as stream:
        head = stream.read(4)
        stream.seek(0)
        wide = next((codec for bom, _, codec in _BOMS if head.startswith(bom) and codec != "utf-8-sig"), None)
        if wide:   # UTF-16/32: rare for JSONL, read whole
            data = read_bytes(file, max_bytes * 64)
            lines: Iterator[tuple[int, bytes | str]] = enumerate(data.decode(wide, "replace").splitlines(), 1)
        else:
            lines = enumerate(_capped_lines(stream, max_bytes), 1)
        any_text = False
        for number, raw in lines:
            if raw is None:
                yield Skipped(file_id, _record_too_large(max_bytes), line=number), number
                continue
            if isinstance(raw, bytes):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                if not raw.strip():
                    continue
                try:
                    line, encoding = raw.decode("utf-8"), "utf-8"
                except UnicodeDecodeError:
                    try:
                        line, encoding = _detect(raw, 0)
                    except UnreadableFile:
                        yield Skipped(file_id, "not text: no encoding fits this line", line=number), number
                        continue
            else:
                line, encoding = raw, wide
            if not line.strip():
                continue
            any_text = True
            document, problem, warnings = parse_record_checked(line)
            for warning in warnings:
                yield LoadWarning(file_id, warning, line=number), number
            if problem:
                yield Skipped(file_id, problem, line=number), number
            else:
                yield replace(document, encoding=encoding), number
        if not any_text:
            yield Skipped(file_id, "no text (empty file)"), None


def _capped_lines(stream, max_bytes: int) -> Iterator[bytes | None]:
    """Lines of a binary stream; None for a line longer than ``max_bytes`` (read past, not kept)."""
    while True:
        line = stream.readline(max_bytes + 2)
        if not line:
            return
        if len(line) - line.endswith(b"\n") > max_bytes:
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
            yield None
            continue
        yield line


def _record_too_large(max_bytes: int) -> str:
    return f"record too large: over the per-document limit of {_size(max_bytes)} (max_bytes)"


def parse_jsonl(text: str, file_id: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Corpus:
    """Parse JSONL text already in memory (see ``iter_path`` for files)."""
    corpus = Corpus()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > max_bytes or len(line.encode("utf-8", "surrogatepass")) > max_bytes:
            corpus.skipped.append(Skipped(file_id, _record_too_large(max_bytes), line=number))
            continue
        document, problem, warnings = parse_record_checked(line)
        corpus.warnings.extend(LoadWarning(file_id, w, line=number) for w in warnings)
        if problem:
            corpus.skipped.append(Skipped(file_id, problem, line=number))
        else:
            corpus.documents.append(document)
    return corpus


def parse_record(line: str) -> tuple[Document | None, str | None]:
    """Parse one JSONL line into a Document, or return the reason it is not one.

    Unusable metadata (a date of "nan") is dropped silently here; ``parse_record_checked``
    also says what was dropped."""
    document, problem, _ = parse_record_checked(line)
    return document, problem


def parse_record_checked(line: str) -> tuple[Document | None, str | None, list[str]]:
    """Parse one JSONL line into a Document, or give the reason it is not one; plus warnings."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return None, f"malformed JSON: {err.msg} at column {err.colno}", []
    except RecursionError:
        return None, "malformed record: nested too deeply", []
    if not isinstance(obj, dict):
        return None, "malformed record: expected a JSON object", []
    if "id" not in obj or obj["id"] in (None, "") or isinstance(obj["id"], (dict, list)):
        return None, "missing 'id'" if not isinstance(obj.get("id"), (dict, list)) else "'id' is not a string or number", []
    if not isinstance(obj.get("text"), str):
        return None, ("missing 'text'" if "text" not in obj else "'text' is not a string"), []
    if not obj["text"].strip():
        return None, "empty 'text'", []
    extras, warnings = _metadata(obj)
    return Document(id=str(obj["id"]), text=obj["text"], title=extras["title"] or first_line(obj["text"]),
                    date=extras["date"], url=extras["url"], source=extras["source"]), None, warnings


_NOT_A_DATE = {"", "nan", "nat", "none", "null", "n/a", "na", "undefined", "unknown", "-", "0"}


def _metadata(obj: dict) -> tuple[dict[str, str | None], list[str]]:
    """``title``, ``url``, ``date``, ``source`` of a record or sidecar, and warnings about bad ones.

    A date must be a string with a digit in it that is not a null-like value;
    anything else ("nan", ``{"y": 2020}``, ``true``) is dropped with a warning."""
    fields: dict[str, str | None] = {}
    warnings: list[str] = []
    for name in JSONL_FIELDS:
        value = obj.get(name)
        if value is None:
            fields[name] = None
        elif name == "date":
            fields[name] = _checked_date(value)
            if fields[name] is None:
                warnings.append(f"date {json.dumps(value, ensure_ascii=False)[:60]} ignored: not a date")
        elif isinstance(value, (dict, list)):
            fields[name] = None
            warnings.append(f"{name} ignored: expected a string, got a JSON {type(value).__name__}")
        else:
            fields[name] = str(value)
    return fields, warnings


def _checked_date(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if text.lower() in _NOT_A_DATE or not re.search(r"\d", text):
        return None
    if isinstance(value, int) and not 1000 <= value <= 2999:   # a bare number must be a year
        return None
    return text


# --- HTML ------------------------------------------------------------------

_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "math",
              "select", "button", "canvas", "video", "audio"}
_VOID_TAGS = {"br", "hr"}   # one line break, not one per start and end
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "nav", "aside", "blockquote", "pre", "table", "tr", "td", "th", "figure",
    "figcaption", "main", "hr", "dd", "dt", "form", "title", "body", "address", "details", "summary",
    "dl", "fieldset", "caption", "thead", "tbody", "tfoot", "center",
}
# Meta tags that carry a publication date, most specific first.
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate",
    "publishdate", "publish-date", "publish_date", "dc.date", "dc.date.issued", "dcterms.created",
    "sailthru.date", "parsely-pub-date", "article.published", "og:updated_time",
)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')


class Page(NamedTuple):
    """What ``extract_html`` gives: the article's text, title, publication date and the
    name of the site that published it (None when the page does not say)."""

    text: str
    title: str
    date: str | None
    site: str | None = None


def extract_html(raw: str) -> Page:
    """Main text, title, publication date and site name of an HTML page; never raises.

    The one place HTML becomes text.  The article body comes from trafilatura, which
    drops navigation, related links, footers and comments: with them, two different
    articles of one site share enough text to be reported as ``overlap``
    (benchmarks/html_extraction.py measures both extractors on real pages).  Where
    trafilatura finds no main text (a page that is all list, or a fragment), the
    page's whole visible text (``visible_text``) is used instead, so no page with
    text comes out empty.

    Title and site name are trafilatura's reading of the page's metadata (og:title,
    ``<h1>``, og:site_name, JSON-LD publisher), the ``<title>`` as fallback.  The date
    is the page's own markup first (``visible_text``: meta tags, JSON-LD, ``<time>``,
    kept as written, time of day included), then htmldate's finding through
    trafilatura (YYYY-MM-DD)."""
    full = visible_text(raw)
    main = _main_text(raw)
    if main is None:
        return full
    return Page(text=main.text, title=main.title or full.title, date=full.date or main.date,
                site=main.site)


class _Article(NamedTuple):
    text: str
    title: str
    date: str | None
    site: str | None


def _main_text(raw: str) -> _Article | None:
    """trafilatura's main text and metadata, or None when it finds no text.

    Imported here, not at module level: it costs a second to import and only HTML needs it."""
    import trafilatura

    try:
        found = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False,
                                            include_tables=True, deduplicate=False)
    except Exception:   # its failure on a hostile page must not lose the page: visible text is used
        return None
    if found is None:
        return None
    text = _tidy(_plain_table_rows(found.text or ""))
    if not text:
        return None
    return _Article(text=text, title=" ".join((found.title or "").split()), date=found.date or None,
                    site=" ".join((found.sitename or "").split()) or None)


_TABLE_ROW = re.compile(r"^\| (.*?) ?\|[ \t]*$", re.M)


def _plain_table_rows(text: str) -> str:
    """trafilatura writes a table row as ``| a | b |``; one cell a line, as ``visible_text``
    does, so the same table reads the same through either extractor."""
    return _TABLE_ROW.sub(lambda row: "\n".join(c.strip() for c in row.group(1).split(" | ") if c.strip()), text)


def _tidy(text: str) -> str:
    """Spaces collapsed within lines, at most one empty line between paragraphs."""
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def visible_text(raw: str) -> Page:
    """All visible text of an HTML page, with title and publication date.

    Parsed by lxml (libxml2's HTML parser,
    tolerant of missing and misnested tags — a ``<head>`` never closed keeps the
    body's text); script, style and other invisible elements are left out, block
    elements become line breaks, runs of spaces collapse.  The date comes from
    the first of ``_DATE_META`` present, then JSON-LD ``datePublished``, then the
    first ``<time datetime>``.  Never raises."""
    import lxml.html
    from lxml import etree

    try:
        parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                      recover=True, no_network=True, huge_tree=True)
        root = lxml.html.document_fromstring(raw.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError, TypeError, etree.LxmlError):
        return Page("", "", None)
    parts: list[str] = []
    title_parts: list[str] = []
    meta: dict[str, str] = {}
    jsonld: list[str] = []
    time_datetime: str | None = None
    skip = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag == "meta":
                key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
                content = (element.get("content") or "").strip()
                if key and content:
                    meta.setdefault(key, content)
            elif tag == "time" and time_datetime is None and element.get("datetime"):
                time_datetime = element.get("datetime").strip()
            elif tag == "title" and element.text:
                title_parts.append(element.text)
            elif tag == "script" and "ld+json" in (element.get("type") or "").lower() and element.text:
                jsonld.append(element.text)
            if tag in _SKIP_TAGS:
                skip += 1
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if not skip and element.text:
                parts.append(element.text)
        else:
            if tag in _SKIP_TAGS:
                skip -= 1
            if tag in _BLOCK_TAGS and tag not in _VOID_TAGS:
                parts.append("\n")
            if not skip and element.tail:
                parts.append(element.tail)
    text = _tidy("".join(parts))
    title = " ".join("".join(title_parts).split()) or " ".join(meta.get("og:title", "").split())
    date = next((meta[k] for k in _DATE_META if meta.get(k)), None)
    if date is None:
        date = _jsonld_date(jsonld) or time_datetime
    return Page(text=text, title=title, date=date)


def parse_html(html: str) -> Page:
    """Former name of ``extract_html``."""
    return extract_html(html)


def _jsonld_date(blocks: list[str]) -> str | None:
    for block in blocks:
        try:
            found = _find_key(json.loads(block), "datePublished")
        except (ValueError, RecursionError):
            match = _JSONLD_DATE.search(block)
            found = match.group(1) if match else None
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def _find_key(obj, key: str, depth: int = 0):
    if depth > 20:
        return None
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        values = obj.values()
    elif isinstance(obj, list):
        values = obj
    else:
        return None
    for value in values:
        found = _find_key(value, key, depth + 1)
        if found is not None:
            return found
    return None
