"""An import's raw messages: read from a Maildir, an mbox or .eml files, and parsed ahead."""

import logging
import mailbox
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from serviceloop.inboxes.parsing import ParsedMail, parse_message

logger = logging.getLogger(__name__)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _eml_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".eml")


def count_messages(path: Path) -> int | None:
    """How many messages a source holds (for the progress bar), or None if unknown."""
    if path.is_dir() and _is_maildir(path):
        return sum(1 for d in ("cur", "new") for p in (path / d).iterdir() if p.is_file())
    if path.is_dir():
        return len(_eml_files(path))
    return None


def raw_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, raw bytes) of every message, in a stable order (file name order for folders)."""
    if path.is_dir() and _is_maildir(path):
        for sub in ("cur", "new"):
            for item in sorted(p for p in (path / sub).iterdir() if p.is_file()):
                yield item.name, item.read_bytes()
    elif path.is_dir():
        for item in _eml_files(path):
            yield item.name, item.read_bytes()
    elif path.suffix.lower() == ".eml":
        yield path.name, path.read_bytes()
    else:
        box = mailbox.mbox(str(path), create=False)
        try:
            for key in box.iterkeys():
                yield "%s#%s" % (path.name, key), box.get_bytes(key)
        finally:
            box.close()


# A batch ends at this many bytes of mail too: an import holds a batch and the next one,
# each raw and parsed, so fifty messages with big attachments must not make gigabytes.
MAX_BATCH_BYTES = 32 * 1024 * 1024


def batches(
    raws: Iterable[bytes], *, max_count: int, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[list[bytes]]:
    """Group messages into batches of at most `max_count` messages and about `max_bytes`."""
    batch: list[bytes] = []
    size = 0
    for raw in raws:
        batch.append(raw)
        size += len(raw)
        if len(batch) >= max_count or size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def parse_all(raws: list[bytes]) -> list[ParsedMail]:
    return [parse_message(raw) for raw in raws]


def parsed_ahead(
    batches: Iterable[list[bytes]],
) -> Iterator[tuple[list[bytes], list[ParsedMail] | None]]:
    """Each batch with its messages parsed, while the next batch is parsed in another process.

    An import spends a good part of its time parsing, which needs no database: a second
    process does it for the next batch while this one stores and threads the current one.
    The parse is the same `parse_message` the import would run; if the parsing process
    cannot (it died, or the system refuses a new process) a batch comes with None and is
    parsed where it is imported.
    """
    # forkserver, not fork: a forked child would share this process's database socket.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_stop_with, initargs=(os.getpid(),)
    ) as parser:
        pending: tuple[list[bytes], Future[list[ParsedMail]] | None] | None = None
        for batch in batches:
            try:
                future: Future[list[ParsedMail]] | None = parser.submit(parse_all, batch)
            except (BrokenProcessPool, OSError, RuntimeError):
                future = None
            if pending is not None:
                yield pending[0], _parsed(pending[1])
            pending = (batch, future)
        if pending is not None:
            yield pending[0], _parsed(pending[1])


def _stop_with(importer_pid: int) -> None:
    """In the parsing process: exit once the import that started it is gone, even killed."""

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(importer_pid, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=watch, name="watch-importer", daemon=True).start()


def _parsed(future: "Future[list[ParsedMail]] | None") -> list[ParsedMail] | None:
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        logger.warning("The parsing process failed; parsing this batch in the import.")
        return None
