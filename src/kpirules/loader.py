"""Load stage: read a policy file and run it through parse, check and compile, once."""

from __future__ import annotations

from pathlib import Path

from .checker import check
from .compile import compile_policy
from .diagnostics import error, prepare
from .errors import PolicyError
from .parser import ParseFailure, parse
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
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark that some editors write
    return SourceFile(path=str(path), text=text)


def load(source: SourceFile):
    """(policy model, programs) or PolicyError with every diagnostic."""
    try:
        tree = parse(source)
    except ParseFailure as failure:
        raise PolicyError(prepare(failure.diagnostics)) from None
    model, diags = check(tree, source)
    if model is None:
        raise PolicyError(prepare(diags))
    return model, compile_policy(model), tuple(prepare(diags))
