"""Parser cache: the built LALR parser kept in the user's cache directory, keyed by grammar and versions.

Building Lark's LALR tables for the grammar takes longer than checking a whole policy, and a
one-shot `kpirules check` would pay it every time. The built parser is saved (`Lark.save`) in a
file named by a hash of everything it is built from: the grammar's text, the options, the Lark
and Python versions, and this file's format. The whole hash is also the file's first line, and
the file is loaded (`Lark.load`) only when that line matches: a changed grammar is a new file,
never a stale one.

The cache only saves time; it can never change a parse. Whatever goes wrong with it (no home
directory, a read-only or foreign directory, a corrupt, truncated or stale file, a concurrent
writer) the parser is built from the grammar as if there were no cache. A new file is written
under a name of this process's own and renamed into place, so no reader sees half a file.

`KPIRULES_CACHE_DIR` chooses the directory; set to an empty value, it turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import lark
from lark import Lark

ENV = "KPIRULES_CACHE_DIR"

# Bump when the way the file is written changes.
FORMAT = "2"

_DEFAULT = object()


def directory() -> Path | None:
    """Where the cache lives: $KPIRULES_CACHE_DIR, else the platform's user cache directory."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return Path(chosen) if chosen else None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "kpirules" / "Cache" if base else None
    if sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    if not os.path.isabs(base):  # no home directory: `~` was left as is
        return None
    return Path(base) / "kpirules"


def key(grammar: str, options: dict) -> str:
    """The hash of everything the built parser depends on."""
    parts = [FORMAT, grammar, repr(sorted(options.items())), lark.__version__,
             "{}.{}".format(*sys.version_info[:2])]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def path_for(folder: Path, grammar: str, options: dict) -> Path:
    return folder / f"parser-{key(grammar, options)[:32]}.lark"


def _usable(folder: Path) -> bool:
    """Create the folder if need be; refuse one that another user could write to (the file is a
    pickle: loading it runs what it says)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
    except OSError:
        return False
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return False
    return os.access(folder, os.R_OK | os.W_OK | os.X_OK)


def build(grammar: str, options: dict, postlex=None, folder=_DEFAULT) -> Lark:
    """The parser for `grammar`: loaded from the cache when a good file is there, else built (and
    saved when the folder allows). A loaded parser brings its own copy of `postlex`."""
    folder = directory() if folder is _DEFAULT else folder
    if folder is None or not _usable(Path(folder)):
        return Lark(grammar, postlex=postlex, **options)
    path = path_for(Path(folder), grammar, options)
    header = key(grammar, options).encode("ascii") + b"\n"
    parser = load(path, header)
    if parser is None:
        parser = Lark(grammar, postlex=postlex, **options)
        _save(parser, path, header)
    return parser


def load(path: Path, header: bytes) -> Lark | None:
    """The parser saved in `path` if the file starts with `header` and reads whole, else None."""
    try:
        with open(path, "rb") as f:
            if f.read(len(header)) != header:
                return None
            return Lark.load(f)
    except Exception:  # noqa: BLE001 - missing, unreadable, truncated or corrupt: build instead
        return None


def _save(parser: Lark, path: Path, header: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as f:
            f.write(header)
            parser.save(f)
        os.replace(partial, path)
    except Exception:  # noqa: BLE001 - an unwritable cache only costs time
        try:
            os.unlink(partial)
        except OSError:
            pass
