"""The policies a server offers: loaded once from a folder, reloaded when their files change.

A reload builds the new set of policies completely (every file read, checked and compiled) and
then replaces the old set with one assignment, so a request sees either the old set or the new
one, never a mixture or a half-loaded policy. A policy whose new text does not check keeps
serving its last good version; its diagnostics are reported (`reload_error`) until it is fixed.
A policy that never loaded answers 422 with its diagnostics.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import attrs

from .. import Policy, load_policy
from ..errors import PolicyError

log = logging.getLogger("kpirules.serve")


@attrs.frozen
class Entry:
    """One policy file: its good version (or None) and the diagnostics of its latest failed load."""
    name: str
    path: str
    policy: Policy | None
    errors: tuple = ()  # Diagnostic values of the last load that failed (empty when it loaded)


def _is_module(path: str, folder: Path) -> bool:
    return "ruleset" in Path(path).parts[len(folder.parts):] or not Path(path).is_relative_to(folder)


def _signature(folder: Path) -> tuple:
    """What the watcher compares: every .rules file under the folder, and the ruleset/ folders
    above it that `import` can reach, with their modification times and sizes."""
    files = list(folder.rglob("*.rules"))
    for base in folder.resolve().parents:
        ruleset = base / "ruleset"
        if ruleset.is_dir():
            files.extend(ruleset.rglob("*.rules"))
    out = []
    for f in sorted(set(files)):
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


class Registry:
    """The current policies by name (`entries`), swapped whole on every reload."""

    def __init__(self, folder: str | Path, interval: float = 1.0):
        self.folder = Path(folder)
        self.interval = interval
        self.entries: dict[str, Entry] = {}
        self.generation = 0
        self._signature: tuple = ()
        self._lock = threading.Lock()  # one reload at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    # ---- loading ------------------------------------------------------------------------

    def reload(self) -> bool:
        """Load the folder again if any file changed; True when a new set was swapped in."""
        with self._lock:
            signature = _signature(self.folder)
            if signature == self._signature and self.generation:
                return False
            old = self.entries
            before = {path: (mtime, size) for path, mtime, size in self._signature}
            after = {path: (mtime, size) for path, mtime, size in signature}
            changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
            # A changed module may change any policy; a changed policy file only itself.
            everything = not self.generation or any(_is_module(p, self.folder) for p in changed)
            new: dict[str, Entry] = {}
            for path in sorted(self.folder.rglob("*.rules")):
                if _is_module(str(path), self.folder):
                    continue  # shared modules, not policies
                kept = next((e for e in old.values() if e.path == str(path)), None)
                if not everything and str(path) not in changed and kept is not None:
                    entry: Entry | None = kept
                else:
                    entry = self._load(path, old)
                if entry is None:
                    continue
                if entry.name in new:
                    log.warning("%s: a policy named `%s` is already served from %s; this file is ignored",
                                path, entry.name, new[entry.name].path)
                    continue
                new[entry.name] = entry
            self.entries = new  # the swap: one assignment
            self._signature = signature
            self.generation += 1
            return True

    def _load(self, path: Path, old: dict[str, Entry]) -> Entry | None:
        text_path = str(path)
        previous = next((e for e in old.values() if e.path == text_path), None)
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            if previous is not None and previous.policy is not None:
                log.warning("%s: the new text does not check; version %s keeps serving:\n%s",
                            path, previous.policy.sha256[:12], exc.render())
                return attrs.evolve(previous, errors=exc.diagnostics)
            log.warning("%s: does not check:\n%s", path, exc.render())
            # Not a module (`module x` at the top) and not loadable: served as a 422 under its stem.
            try:
                head = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff").lstrip()
            except OSError:
                return None
            if head.startswith("module "):
                return None
            return Entry(name=path.stem, path=text_path, policy=None, errors=exc.diagnostics)
        if previous is None or previous.policy is None or previous.policy.sha256 != policy.sha256:
            log.info("%s: loaded policy `%s` (sha256 %s)", path, policy.name, policy.sha256[:12])
        return Entry(name=policy.name, path=text_path, policy=policy)

    def get(self, name: str) -> Entry | None:
        return self.entries.get(name)

    # ---- watching -----------------------------------------------------------------------

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="kpirules-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.reload()
            except Exception:  # a watcher that dies would silently stop reloads: log and go on
                log.exception("reloading %s failed", self.folder)

    def status(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "generation": self.generation, "policies": len(self.entries)}
