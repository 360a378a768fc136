"""Reading and writing user files on any object storage Airflow knows (local, S3, GCS through fsspec).

Operators take `str` or `ObjectStoragePath` arguments; these helpers accept both and stream, so
no input or export is held in memory whole. (Formerly `airflow_mmc_provider.storage`.)
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import msgspec

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


class JsonLinesError(ValueError):
    """A line of a JSONL input is not valid JSON; names the file and the line."""


def as_storage_path(path: str | os.PathLike[str] | ObjectStoragePath) -> ObjectStoragePath:
    """Accept `s3://...`, `file:///...`, a plain local path or an ObjectStoragePath."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    if isinstance(path, ObjectStoragePath):
        return path
    text = os.fspath(path)
    if "://" not in text:
        text = "file://" + os.path.abspath(text)
    return ObjectStoragePath(text)


def iter_lines(path: str | os.PathLike[str] | ObjectStoragePath) -> Iterator[bytes]:
    """The raw lines of a file, streaming, for the readers in `mmc` that number and decode them
    themselves (conversation records, annotation records); read in large chunks (`read_lines`)."""
    from airflow_mmc_provider.mmc.conversation import read_lines

    with as_storage_path(path).open("rb") as handle:
        yield from read_lines(handle)


def iter_jsonl(path: str | os.PathLike[str] | ObjectStoragePath) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) for each non-blank line, streaming; bad JSON names its line."""
    from airflow_mmc_provider.mmc.conversation import read_lines
    from airflow_mmc_provider.mmc.jsonl import DECODE_ERRORS, named_cause

    location = as_storage_path(path)
    decoder = msgspec.json.Decoder()
    with location.open("rb") as handle:
        for number, line in enumerate(read_lines(handle), start=1):
            if not line.strip():
                continue
            try:
                yield number, decoder.decode(line)
            except DECODE_ERRORS as exc:
                named = named_cause(exc, line)
                why = f"({named[0]}); {named[1]}" if named else f"({exc}); fix the line"
                raise JsonLinesError(f"{location} line {number}: not valid JSON {why}") from None


def expand_paths(
    paths: str | ObjectStoragePath | Sequence[str | ObjectStoragePath], suffix: str = ".jsonl"
) -> list[ObjectStoragePath]:
    """The files that paths name: a file as given, a folder's `suffix` files, a glob's matches.

    A list is expanded item by item, in its order (each folder or glob sorted by path), so a
    templated ``responses/{{ ds }}/*.jsonl`` reads the same files in the same order on every retry.
    A folder or glob that matches nothing is an error naming it: an empty week is a harness failure.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) or not isinstance(paths, Sequence) else paths
    found: dict[str, ObjectStoragePath] = {}
    for item in items:
        text = str(item)
        if any(char in text for char in _GLOB_CHARS):
            matches = _glob(text)
        else:
            path = as_storage_path(item)
            if path.is_dir():
                matches = sorted(path.glob(f"*{suffix}"), key=str)
            elif path.exists():
                matches = [path]
            else:
                raise FileNotFoundError(f"{text!r} does not exist; check the path and its templated parts")
        if not matches:
            raise FileNotFoundError(f"no {suffix} file at {text!r}; check the path and its templated parts")
        found.update((str(match), match) for match in matches)
    return list(found.values())


_GLOB_CHARS = "*?["


def _glob(pattern: str) -> list[ObjectStoragePath]:
    """The matches of a glob, sorted; the folder part before the first wildcard is its root."""
    first = min(pattern.index(char) for char in _GLOB_CHARS if char in pattern)
    cut = pattern.rfind("/", 0, first)
    root = (pattern[:cut] or "/") if cut >= 0 else "."
    return sorted(as_storage_path(root).glob(pattern[cut + 1 :]), key=str)


def load_mapping(spec: Mapping[str, Any] | str | ObjectStoragePath) -> Any:
    """A mapping spec given inline (a dict) or as a YAML/JSON file at any storage path."""
    if isinstance(spec, Mapping):
        return dict(spec)
    from airflow_mmc_provider.mmc.conversation.mapping import parse_mapping, parse_mapping_text

    path = as_storage_path(spec)
    # parsed here, so that a problem of the spec names the file it is in
    return parse_mapping(parse_mapping_text(path.read_text(), source=str(path)), source=f"mapping {path}")


def list_files(
    folder: ObjectStoragePath,
    keep: Callable[[str], bool],
    *,
    skip: Collection[str] = (),
    skip_holding: str | None = None,
) -> list[ObjectStoragePath]:
    """The files under `folder`, at any depth, whose name `keep` accepts, sorted by path.

    Sorted so that a run reads its inputs in the same order on every store and every retry. Not
    read: hidden folders (partial uploads, tool caches), the folders in `skip` (as `str` of their
    paths, e.g. an operator's own output folder beside its inputs) and folders holding a file
    named `skip_holding` (a tool's output folders wherever earlier runs put them), nor below them.
    """
    found: list[ObjectStoragePath] = []
    for parent, folders, names in folder.walk():
        if skip_holding is not None and skip_holding in names:
            folders.clear()
            continue
        folders[:] = [name for name in folders if not name.startswith(".") and str(parent / name) not in skip]
        found.extend(parent / name for name in names if keep(name))
    return sorted(found, key=str)


class FoundFiles(NamedTuple):
    """The distinct files of the given paths, and what each given path held (`find_files`)."""

    files: tuple[str, ...]  # in reading order: the given order, a folder's files by path
    searched: tuple[str, ...]  # each given path with what it held, for the log and for errors
    missing: tuple[str, ...]  # given paths that do not exist
    repeated: int  # files named more than once (kept once)

    def searched_text(self) -> str:
        return "; ".join(self.searched)


def find_files(
    given: Iterable[Any],
    keep: Callable[[str], bool],
    held: Callable[[int], str],
    *,
    skip: Collection[str] = (),
    skip_holding: str | None = None,
) -> FoundFiles:
    """Resolve paths, URLs and folders to the files ``keep`` accepts; a folder is searched at any
    depth (`list_files`), and ``held(count)`` says what it held, for the log and for errors.

    A file is kept once under its resolved name (``ObjectStoragePath``'s `str`: a relative path,
    an absolute one and a ``file://`` URL of the same file are one name), however often it is met.
    """
    files: dict[str, None] = {}  # an ordered set
    searched: list[str] = []
    missing: list[str] = []
    repeated = 0
    for item in given:
        location = as_storage_path(item)
        if location.is_dir():
            found = [str(path) for path in list_files(location, keep, skip=skip, skip_holding=skip_holding)]
            searched.append(f"{location} (folder: {held(len(found))})")
        elif location.exists():
            found = [str(location)]
            searched.append(f"{location} (file)")
        else:
            found = []
            missing.append(str(location))
            searched.append(f"{location} (does not exist)")
        for name in found:
            repeated += name in files
            files[name] = None
    return FoundFiles(tuple(files), tuple(searched), tuple(missing), repeated)


@contextmanager
def atomic_write(path: str | os.PathLike[str] | ObjectStoragePath) -> Iterator[IO[bytes]]:
    """Write to a hidden partial file beside `path`, then move it into place.

    A failed or killed download leaves no half file where the final one belongs; the partial
    file is removed on failure (a hard kill may leave a `.partial-*` file, never the final name,
    and the next write of the same path removes it: `remove_stale_partials`).
    """
    final = as_storage_path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final)
    partial = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:12]}"
    try:
        with partial.open("wb") as handle:
            _hold_writer_lock(handle)
            yield handle
        partial.rename(final)
    except BaseException:
        if partial.exists():
            partial.unlink()
        raise


STALE_PARTIAL_SECONDS = 3600.0  # off local disk: a partial file untouched this long has no writer


def remove_stale_partials(final: ObjectStoragePath) -> list[str]:
    """Remove the partial files a killed writer of `final` left beside it; return their names.

    Only `final`'s own partial files (``.<name>.partial-<12 hex>``, exactly as `atomic_write`
    names them: not those of other destinations in the folder) and only those no live writer
    holds. On local disk `atomic_write` keeps an exclusive lock on its partial file, which the
    kernel releases when the process dies (SIGKILL included), so a partial file nobody has
    locked is stale at once. Elsewhere (object stores, where a partial object appears only once
    written whole) one not modified for `STALE_PARTIAL_SECONDS` is stale.
    """
    pattern = re.compile(rf"\.{re.escape(final.name)}\.partial-[0-9a-f]{{12}}")
    try:
        candidates = [p for p in final.parent.iterdir() if pattern.fullmatch(p.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for candidate in candidates:
        if _is_stale(candidate):
            candidate.unlink(missing_ok=True)
            removed.append(candidate.name)
    return removed


def _is_stale(partial: ObjectStoragePath) -> bool:
    if partial.protocol in ("file", "local", ""):
        return not _locked(partial.path)
    try:
        return time.time() - partial.stat().st_mtime > STALE_PARTIAL_SECONDS
    except (OSError, AttributeError, KeyError, TypeError):
        return False  # no age to judge by: leave it


def _hold_writer_lock(handle: IO[bytes]) -> None:
    """An exclusive lock on a local partial file for as long as it is open (see above)."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError, AttributeError, ValueError):
        pass  # not a local file, or no locks here: `_locked` then cannot tell and keeps it


def _locked(local_path: str) -> bool:
    """Whether a live process holds the writer's lock on this local file."""
    try:
        import fcntl
    except ImportError:
        return True  # cannot tell: keep the file
    try:
        descriptor = os.open(local_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)
    return False
