"""Load stage: read a policy file and run it through parse, check and compile, once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs

from .checker import check
from .diagnostics import error, prepare
from .errors import PolicyError
from .lint import lint
from .parser import ParseFailure, parse
from .program import compile_policy
from .source import SourceFile, Span


def read_source(path) -> SourceFile:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise PolicyError([error("E002", f"policy file `{path}` does not exist")]) from None
    except IsADirectoryError:
        raise PolicyError([error("E002", f"`{path}` is a directory, not a policy file")]) from None
    except OSError as exc:
        raise PolicyError([error("E002", f"cannot read `{path}`: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        src = SourceFile(path=str(path), text=data[:exc.start].decode("utf-8", "replace"))
        span = Span(source=src, start=len(src.text), end=len(src.text))
        raise PolicyError([error("E003", "the policy file is not UTF-8 text", span,
                                 "save the file as UTF-8")]) from None
    return SourceFile(path=str(path), text=strip_bom(text))


def strip_bom(text: str) -> str:
    """Drop the byte-order mark some editors write at the start of a UTF-8 file."""
    return text[1:] if text.startswith("\ufeff") else text


def _display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def find_module(parts, importer: str):
    """`import a.b` in `dir/x.rules` is `ruleset/a/b.rules` in dir or the nearest folder above it."""
    rel = Path(*parts).with_suffix(".rules")
    start = Path(importer).resolve().parent if importer and not importer.startswith("<") else Path.cwd()
    for base in (start, *start.parents):
        candidate = base / "ruleset" / rel
        if candidate.is_file():
            return candidate
    return None


def _with_imports(tree, source: SourceFile, chain: tuple, diags: list, texts: list, resolved=None, seen=None):
    """The tree with every imported module's definitions placed before its own (depth first).

    A module reached twice (a policy and one of its modules both import it) is merged once.
    """
    merged: dict[str, list[object]] = {"tables": [], "definitions": [], "bands": [], "ladders": [], "functions": [],
                                       "tiers": []}
    seen = set() if seen is None else seen
    for imp in tree.imports:
        path = find_module(imp.path, source.path)
        dotted = ".".join(imp.path)
        if path is None:
            diags.append(error("E208", f"module `{dotted}` not found", imp.span,
                               f"put it in `ruleset/{'/'.join(imp.path)}.rules` beside or above the policy"))
            continue
        key = str(path.resolve())
        if key in chain:
            diags.append(error("E213", f"import cycle: `{dotted}` imports, directly or not, the file "
                               f"that imports it", imp.span, "move the shared definitions into one module"))
            continue
        try:
            module_source = read_source(_display_path(path))
            module = parse(module_source)
        except PolicyError as exc:
            diags.extend(exc.diagnostics)
            continue
        except ParseFailure as failure:
            diags.extend(failure.diagnostics)
            continue
        if not module.is_module:
            diags.append(error("E208", f"`{dotted}` is a policy, not a module", imp.span,
                               f"start `{_display_path(path)}` with `module {imp.path[-1]}`"))
            continue
        if module.evaluations or module.examples:
            diags.append(error("E208", f"module `{dotted}` holds evaluations or examples; a module only "
                               f"shares definitions", module.span, "move them into a policy"))
        if key in seen:
            if resolved is not None:
                resolved.append((imp, ()))
            continue
        seen.add(key)
        # The stamp hashes a module under its import name: the same wherever the policy is loaded from.
        texts.append((dotted, module_source.text))
        if resolved is not None:
            resolved.append((imp, _defined_names(module)))
        module = _with_imports(module, module_source, chain + (key,), diags, texts, seen=seen)
        for field in merged:
            merged[field].extend(getattr(module, field))
    if not any(merged.values()):
        return tree
    return attrs.evolve(tree, **{field: tuple(merged[field]) + getattr(tree, field) for field in merged})


def _defined_names(module) -> tuple:
    return tuple(d.name for group in (module.tables, module.definitions, module.bands, module.ladders,
                                      module.functions, module.tiers) for d in group)


def merged_tree(source: SourceFile):
    """The policy's tree with the definitions of the modules it imports merged in, as `load` checks
    it (for a policy that loads; import problems are left to `load` to report)."""
    tree = parse(source)
    own = str(Path(source.path).resolve()) if not source.path.startswith("<") else source.path
    return _with_imports(tree, source, (own,), [], [])


def load(source: SourceFile):
    """(policy model, programs) or PolicyError with every diagnostic."""
    try:
        tree = parse(source)
    except ParseFailure as failure:
        raise PolicyError(prepare(failure.diagnostics)) from None
    import_diags: list = []
    import_texts: list = []
    own = str(Path(source.path).resolve()) if not source.path.startswith("<") else source.path
    resolved: list = []
    tree = _with_imports(tree, source, (own,), import_diags, import_texts, resolved)
    if any(d.is_error for d in import_diags):
        raise PolicyError(prepare(import_diags))
    model, diags = check(tree, source)
    if model is not None and import_texts:
        # The stamp covers what the policy means: its own text and every module it imports.
        digest = hashlib.sha256(source.text.encode("utf-8"))
        for path, text in import_texts:
            digest.update(b"\0" + path.encode("utf-8") + b"\0" + text.encode("utf-8"))
        model = attrs.evolve(model, sha256=digest.hexdigest())
    if model is None:
        raise PolicyError(prepare(diags))
    diags = list(diags) + lint(model, resolved)
    return model, compile_policy(model), tuple(prepare(diags))
