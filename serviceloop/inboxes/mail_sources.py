"""Read raw messages from what an operator has: a Maildir, an mbox, a folder of .eml files."""

import mailbox
from collections.abc import Iterator
from pathlib import Path


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
