"""The cache of the built parser (kpirules.parser.cache): it saves time and never changes a parse,
whatever state the cache directory or file is in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

from kpirules.parser import cache, lalr

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = lalr.grammar()
# The same language with one more word for `policy`: a parser built for one must not serve the other.
OTHER = GRAMMAR.replace('header: "policy" NAME', 'header: ("policy" | "regel") NAME', 1)
POLICY = 'policy p\n\nevaluation e:\n    fact x: number\n    output y = x * 2\n'
REGEL = POLICY.replace("policy p", "regel p")


def build(grammar: str, folder) -> Lark:
    return cache.build(grammar, lalr.OPTIONS, postlex=lalr._Indenter(), folder=folder)


def accepts(parser: Lark, text: str) -> bool:
    try:
        parser.parse(text)
    except UnexpectedInput:
        return False
    return True


def test_the_other_grammar_differs():
    assert OTHER != GRAMMAR


def test_a_built_parser_is_saved_then_loaded(tmp_path, monkeypatch):
    first = build(GRAMMAR, tmp_path)
    files = list(tmp_path.iterdir())
    built = []
    monkeypatch.setattr(cache, "Lark", type("Counted", (Lark,), {
        "__init__": lambda self, *a, **k: built.append(1) or Lark.__init__(self, *a, **k)}))
    assert [f.name for f in files] == [cache.path_for(tmp_path, GRAMMAR, lalr.OPTIONS).name]
    assert files[0].stat().st_size > 1000
    again = build(GRAMMAR, tmp_path)
    assert built == []  # loaded, not built
    assert again.parse(POLICY) == first.parse(POLICY)
    assert not accepts(again, REGEL)


def test_each_grammar_has_its_own_file(tmp_path):
    assert cache.path_for(tmp_path, GRAMMAR, lalr.OPTIONS) != cache.path_for(tmp_path, OTHER, lalr.OPTIONS)
    assert cache.key(GRAMMAR, lalr.OPTIONS) != cache.key(GRAMMAR, {**lalr.OPTIONS, "maybe_placeholders": False})
    assert accepts(build(OTHER, tmp_path), REGEL)
    assert not accepts(build(GRAMMAR, tmp_path), REGEL)
    assert len(list(tmp_path.glob("parser-*.lark"))) == 2


def test_a_stale_file_under_the_grammars_name_is_not_trusted(tmp_path):
    build(OTHER, tmp_path)
    stale = cache.path_for(tmp_path, OTHER, lalr.OPTIONS)
    stale.replace(cache.path_for(tmp_path, GRAMMAR, lalr.OPTIONS))  # the other grammar's parser
    parser = build(GRAMMAR, tmp_path)
    assert not accepts(parser, REGEL) and accepts(parser, POLICY)


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"\x80\x04\x95 not a pickle", None])
def test_a_corrupt_or_truncated_file_is_rebuilt(tmp_path, content):
    good = build(GRAMMAR, tmp_path)
    path = cache.path_for(tmp_path, GRAMMAR, lalr.OPTIONS)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if content is None else content)
    assert cache.load(path, data[:data.index(b"\n") + 1]) is None
    parser = build(GRAMMAR, tmp_path)
    assert parser.parse(POLICY) == good.parse(POLICY)
    header = cache.key(GRAMMAR, lalr.OPTIONS).encode() + b"\n"
    assert path.read_bytes().startswith(header)  # written again, whole: it loads
    assert cache.load(path, header).parse(POLICY) == good.parse(POLICY)


def test_no_usable_folder_means_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert accepts(build(GRAMMAR, blocker / "cache"), POLICY)  # cannot be created
    assert accepts(build(GRAMMAR, None), POLICY)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_to_is_not_used(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert accepts(build(GRAMMAR, shared), POLICY)
    assert list(shared.iterdir()) == []


def test_a_failed_rename_leaves_no_partial_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("read-only")
    monkeypatch.setattr(cache.os, "replace", refuse)
    assert accepts(build(GRAMMAR, tmp_path), POLICY)
    assert list(tmp_path.iterdir()) == []


def test_the_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    assert cache.directory() == tmp_path
    monkeypatch.setenv(cache.ENV, "")
    assert cache.directory() is None
    monkeypatch.delenv(cache.ENV)
    if sys.platform not in ("win32", "darwin"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache.directory() == tmp_path / "xdg" / "kpirules"


def test_kpirules_check_fills_the_cache_and_uses_it(tmp_path):
    env = {**os.environ, cache.ENV: str(tmp_path / "c")}
    cmd = [sys.executable, "-m", "kpirules", "check", str(ROOT / "policies" / "u8_presales.rules")]
    for _ in range(2):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert "1 checked, 0 with errors" in done.stdout
    assert len(list((tmp_path / "c").glob("parser-*.lark"))) == 1
