"""Records -> Documents: everything ``dedup.scan`` accepts, turned into one ``Corpus``.

Accepted (``to_corpus``):

- a path (``str`` or ``os.PathLike``): a folder, searched recursively, or one file, read by
  the load stage (``load.load_path``); several paths in a list or tuple of ``Path`` objects;
- an iterable of ``Document`` records, of mappings (``id``, ``text``; optional ``title``, ``url``,
  ``date``, ``source``), of ``(id, text)`` pairs or of strings (the texts; ids are their positions, zero-padded so
  they sort in order);
- a pandas ``DataFrame`` (its rows as mappings; without an id column, the row index is the id);
- a Hugging Face ``datasets.Dataset`` (its rows as mappings; without an id column, the row
  number is the id).  Neither pandas nor datasets is imported: both are recognised by shape.

Column names are options (``Columns(text="body")``).  A bad record (no text, an id that is
not a string or number, a date that is not a date, an id seen before) is a ``RecordError``
naming the record by position and id and saying what is wrong; with ``errors="skip"`` it is
kept out of the scan and listed in the report's ``skipped`` instead, never silently lost.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import numbers
import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Sequence, TextIO

from .load import DEFAULT_MAX_BYTES, Corpus, InputError, first_line, load_path, parse_jsonl
from .records import Document, Skipped

RECORDS = "<records>"   # the "path" of in-memory records in skip messages and the report
ERRORS = ("raise", "skip")


class RecordError(ValueError):
    """One in-memory record cannot become a document: which one, and what is wrong."""


@dataclass(frozen=True)
class Columns:
    """Where each ``Document`` field is found in a record (a mapping, a DataFrame row)."""

    id: str = "id"
    text: str = "text"
    title: str = "title"
    url: str = "url"
    date: str = "date"
    source: str = "source"

    @classmethod
    def of(cls, columns: "Columns | Mapping[str, str] | None") -> "Columns":
        if columns is None or isinstance(columns, Columns):
            return columns or cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise ValueError(f"columns: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return cls(**columns)


@dataclass(frozen=True)
class PathFilter:
    """Which files of a folder are read: shell globs on the path relative to the folder.

    A pattern without a slash matches the file name in any folder (``*.txt``); one with a
    slash matches the whole relative path, ``*`` spanning folders too (``2024/*.html``).  A file is read
    when it matches an ``include`` pattern (or there are none) and no ``exclude`` pattern."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def accepts(self, relative: str) -> bool:
        return ((not self.include or any(_glob_match(relative, p) for p in self.include))
                and not any(_glob_match(relative, p) for p in self.exclude))


def _glob_match(relative: str, pattern: str) -> bool:
    subject = relative if "/" in pattern else PurePosixPath(relative).name
    return fnmatch.fnmatchcase(subject, pattern)


def to_corpus(records: Any, columns: Columns | Mapping[str, str] | None = None, *, errors: str = "raise",
              paths: PathFilter = PathFilter()) -> Corpus:
    """Whatever ``dedup.scan`` was given, as a ``Corpus`` (documents plus what was skipped)."""
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {', '.join(ERRORS)}, got {errors!r}")
    columns = Columns.of(columns)
    if isinstance(records, Corpus):
        return records
    if isinstance(records, (str, os.PathLike)):
        return load_paths([records], paths)
    if isinstance(records, (list, tuple)) and records and all(isinstance(r, os.PathLike) for r in records):
        return load_paths(records, paths)
    if isinstance(records, Mapping) or isinstance(records, (bytes, bytearray)):
        raise TypeError(f"cannot scan a {type(records).__name__}: give a path, an iterable of documents, "
                        "mappings or strings, a pandas DataFrame or a datasets.Dataset")
    if isinstance(records, (list, tuple)) and records and all(_names_a_file(r) for r in records):
        # Strings are texts; a list of one-word "texts" that all name files is a mistake.
        raise TypeError("strings are read as article texts, and these all name files or folders: "
                        "pass them as Path objects to read them (dedup.scan([Path('a'), Path('b')]))")
    return corpus_of_records(rows_of(records, columns), columns, errors)


def _names_a_file(item: Any) -> bool:
    return isinstance(item, str) and not any(c.isspace() for c in item) and os.path.exists(item)


# --- paths -------------------------------------------------------------------


STDIN = "-"   # a path of "-" reads JSONL from standard input


def load_paths(paths: Sequence[str | os.PathLike], selected: PathFilter = PathFilter(),
               stdin: TextIO | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Corpus:
    """Several folders or files (``-``: JSONL on ``stdin``) as one corpus.

    With one path, ids are as ``load_path`` gives them (relative to the folder, or the file's
    name).  With several, a file's id is its path as given (``a/x.txt``, ``b/x.txt``), so ids
    from different folders stay apart; JSONL ids are the records' own.  An id seen before is
    skipped and reported."""
    corpus = Corpus()
    for path in paths:
        if str(path) == STDIN:
            corpus.extend(parse_jsonl((stdin or sys.stdin).read(), "<stdin>", max_bytes))
            continue
        found = _load_selected(Path(path), selected, max_bytes)
        corpus.extend(_as_given(found, Path(path)) if len(paths) > 1 else found)
    return _without_repeated_ids(corpus)


def _load_selected(root: Path, selected: PathFilter, max_bytes: int) -> Corpus:
    return load_path(root, max_bytes=max_bytes, select=selected.accepts if selected else None)


def _as_given(corpus: Corpus, root: Path) -> Corpus:
    """Ids and paths of files read from ``root`` as paths from where ``root`` was given."""
    base = root.parent if root.is_file() else root   # a file's own id is its name

    def given(relative: str) -> str:
        return (base / relative).as_posix()

    return replace(corpus, documents=[replace(d, id=given(d.id), path=given(d.path)) if d.path else d
                                      for d in corpus.documents],
                   skipped=[replace(s, path=given(s.path)) for s in corpus.skipped])


def _without_repeated_ids(corpus: Corpus) -> Corpus:
    seen: set[str] = set()
    kept = []
    for doc in corpus.documents:
        if doc.id in seen:
            corpus.skipped.append(Skipped(doc.path or doc.id, f"duplicate document id '{doc.id}'"))
        else:
            seen.add(doc.id)
            kept.append(doc)
    corpus.documents = kept
    return corpus


# --- in-memory records -------------------------------------------------------


def rows_of(records: Any, columns: Columns) -> Iterator[Any]:
    """The rows of a DataFrame or Dataset (as mappings), else the items of the iterable."""
    if _is_dataframe(records):
        frame = records if columns.id in records.columns else records.rename_axis(columns.id).reset_index()
        return iter(frame.to_dict("records"))
    if _is_dataset(records) and columns.id not in records.column_names:
        return ({columns.id: n, **row} for n, row in enumerate(records))
    try:
        return iter(records)
    except TypeError:
        raise TypeError(f"cannot scan a {type(records).__name__}: give a path, an iterable of documents, "
                        "mappings or strings, a pandas DataFrame or a datasets.Dataset") from None


def _is_dataframe(records: Any) -> bool:
    return hasattr(records, "to_dict") and hasattr(records, "columns") and hasattr(records, "reset_index")


def _is_dataset(records: Any) -> bool:
    return hasattr(records, "column_names") and hasattr(records, "features")


def corpus_of_records(rows: Iterable[Any], columns: Columns, errors: str = "raise") -> Corpus:
    """Each row as a ``Document``; strings get their position as id.  A bad row, or an id
    seen before, raises ``RecordError`` (``errors="raise"``) or is listed as skipped."""
    rows = list(rows)
    width = len(str(max(len(rows) - 1, 0)))
    corpus = Corpus()
    seen: dict[str, int] = {}
    for n, row in enumerate(rows):
        try:
            document = to_document(row, columns, default_id=f"{n:0{width}d}")
            if document.id in seen:
                raise RecordError(f"duplicate id {document.id!r} (first used by record {seen[document.id]})")
        except RecordError as err:
            message = f"record {n}{_id_note(row, columns)}: {err}"
            if errors == "raise":
                raise RecordError(message) from None
            corpus.skipped.append(Skipped(RECORDS, f"{_id_note(row, columns).strip(' ()') or 'no id'}: {err}",
                                          line=n))
            continue
        seen[document.id] = n
        corpus.documents.append(document)
    return corpus


def _id_note(row: Any, columns: Columns) -> str:
    value = row.get(columns.id) if isinstance(row, Mapping) else getattr(row, "id", None)
    return "" if isinstance(row, str) or _missing(value) else f" (id {str(value)!r})"


def to_document(row: Any, columns: Columns = Columns(), default_id: str | None = None) -> Document:
    """One record as a ``Document``: a ``Document`` as it is, a string as a text, a mapping
    through ``columns``.  Raises ``RecordError`` saying what is wrong."""
    if isinstance(row, Document):
        return row
    if isinstance(row, str):
        return Document(id=default_id or "0", text=_text(row), title=first_line(row))
    if isinstance(row, tuple) and len(row) == 2:   # (id, text)
        return to_document(dict(zip((columns.id, columns.text), row)), columns)
    if not isinstance(row, Mapping):
        raise RecordError(f"expected a mapping, an (id, text) pair, a string or a Document, "
                          f"got {type(row).__name__}")
    text = _text(row.get(columns.text), columns.text)
    return Document(id=_id(row.get(columns.id), columns.id), text=text,
                    title=_string(row.get(columns.title), columns.title) or first_line(text),
                    url=_string(row.get(columns.url), columns.url),
                    source=_string(row.get(columns.source), columns.source),
                    date=_date(row.get(columns.date), columns.date))


def _text(value: Any, name: str = "text") -> str:
    if _missing(value):
        raise RecordError(f"missing {name!r}")
    if not isinstance(value, str):
        raise RecordError(f"{name!r} is not a string ({type(value).__name__})")
    if not value.strip():
        raise RecordError(f"empty {name!r}")
    return value


def _id(value: Any, name: str) -> str:
    if _missing(value) or value == "":
        raise RecordError(f"missing {name!r}")
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Integral)):
        raise RecordError(f"{name!r} is not a string or whole number ({type(value).__name__})")
    return str(value)


def _string(value: Any, name: str) -> str | None:
    if _missing(value):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{name!r} is not a string ({type(value).__name__})")
    return value.strip() or None


def _date(value: Any, name: str) -> str | None:
    """ISO 8601 text from a string or a date/datetime (pandas Timestamps included)."""
    if _missing(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip() or None
    raise RecordError(f"{name!r} is not a date or a string ({type(value).__name__} {value!r})")


def _missing(value: Any) -> bool:
    """None, NaN, and pandas' NaT and NA (recognised without importing pandas)."""
    if value is None or type(value).__name__ in ("NaTType", "NAType"):
        return True
    return isinstance(value, float) and value != value


__all__ = ["Columns", "PathFilter", "RecordError", "to_corpus", "to_document", "load_paths", "InputError"]
