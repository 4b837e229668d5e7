"""Language server (`kpirules lsp`): the checker, the symbol index and the formatter over the
Language Server Protocol on standard input and output, for VS Code and any other LSP editor.

What it offers: diagnostics when a policy is opened, changed or saved (the checker's, with their
spans; a problem in an imported `ruleset/` module is shown on the `import` line); hover (a name's
label, type, unit, declared rule, citations and where it is defined); go to definition (also
into `ruleset/` modules, and from an `import` to its module); completion of names, list fields,
record keys, keywords and functions; formatting (`kpirules fmt`); and quick fixes that apply a
diagnostic's "did you mean" suggestion. Needs pygls: `pip install 'kpirules[lsp]'`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import symbols
from .diagnostics import Diagnostic
from .errors import PolicyError
from .loader import strip_bom
from .source import SourceFile, Span

__all__ = ["server", "main", "to_lsp_diagnostic"]

# Changes closer together than this are checked once, after the last (typing stays fluid: a
# check of a large policy takes a good part of this).
CHANGE_DELAY = 0.15

_DID_YOU_MEAN = re.compile(r"^did you mean `([^`]+)`\?")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")

_KIND = {
    "fact": types.CompletionItemKind.Field, "let": types.CompletionItemKind.Variable,
    "output": types.CompletionItemKind.Variable, "value": types.CompletionItemKind.Variable,
    "item": types.CompletionItemKind.Property, "scorecard": types.CompletionItemKind.Class,
    "table": types.CompletionItemKind.Struct, "bands": types.CompletionItemKind.Enum,
    "ladder": types.CompletionItemKind.Struct, "function": types.CompletionItemKind.Function,
    "parameter": types.CompletionItemKind.Variable, "field": types.CompletionItemKind.Field,
    "key": types.CompletionItemKind.EnumMember,
}


# ---- positions: LSP counts lines from 0 and columns in the negotiated code units ---------------

def _units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(ch) > 0xFFFF else 1


def _position(source: SourceFile, offset: int, encoding: str) -> types.Position:
    line, col = source.line_col(offset)
    text = source.line_text(line)[:col - 1]
    return types.Position(line=line - 1, character=sum(_units(c, encoding) for c in text))


def _offset(text: str, position: types.Position, encoding: str) -> int:
    """The character offset of an LSP position in `text` (clamped to the line and the text)."""
    start = 0
    for _ in range(position.line):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    units, i = 0, start
    while i < end and units < position.character:
        units += _units(text[i], encoding)
        i += 1
    return i


def _range(span: Span, encoding: str) -> types.Range:
    return types.Range(start=_position(span.source, span.start, encoding),
                       end=_position(span.source, span.end, encoding))


def _uri_of(span: Span) -> str:
    return from_fs_path(str(Path(span.path).resolve())) or span.path


# ---- diagnostics -----------------------------------------------------------------------------

def check_text(source: SourceFile) -> list[Diagnostic]:
    """Every diagnostic `kpirules check` reports for a policy text (warnings when it loads)."""
    from .loader import load
    try:
        _model, _programs, warnings = load(source)
    except PolicyError as exc:
        return list(exc.diagnostics)
    return list(warnings)


def _same_file(span: Span, source: SourceFile) -> bool:
    return span.source is source or span.path == source.path


def to_lsp_diagnostic(d: Diagnostic, source: SourceFile, encoding: str = "utf-16",
                      imports: tuple = ()) -> types.Diagnostic:
    """A kpirules diagnostic as the protocol has it: a problem in another file (an imported
    module) is placed on the `import` line, its message led by its own file:line:col."""
    message = d.message
    data: dict[str, Any] | None = None
    if d.span is not None and _same_file(d.span, source):
        where = _range(d.span, encoding)
        suggestion = _DID_YOU_MEAN.match(d.help or "")
        if suggestion and _IDENTIFIER.fullmatch(d.span.text) and _IDENTIFIER.fullmatch(suggestion.group(1)):
            data = {"replacement": suggestion.group(1)}
    else:
        if d.span is not None:
            message = f"{d.span.location()}: {message}"
        anchor = next((imp.span for imp in imports if _same_file(imp.span, source)), None)
        where = _range(anchor, encoding) if anchor is not None else types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    if d.help:
        message += f"\nhelp: {d.help}"
    severity = types.DiagnosticSeverity.Error if d.is_error else types.DiagnosticSeverity.Warning
    return types.Diagnostic(range=where, message=message, severity=severity, code=d.code, source="kpirules",
                            data=data)


# ---- hover -----------------------------------------------------------------------------------

def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(Path(path).resolve())


def hover_text(sym: symbols.Symbol) -> str:
    """What a hover shows of a name, in Markdown."""
    head = f"**{sym.label}** `{sym.name}`" if sym.label else f"`{sym.name}`"
    kind = sym.kind if sym.context is None else f"{sym.kind} of {sym.context}"
    lines = [head, "", kind, ""]
    if sym.type:
        lines.append(f"- type: {sym.type}")
    if sym.unit:
        lines.append(f"- unit: {sym.unit}")
    if sym.declared:
        lines.append(f"- declared: `{sym.declared}`")
    for cite in sym.cites:
        lines.append(f"- cite: “{cite}”")
    for note in sym.notes:
        lines.append(f"- note: {note}")
    if sym.span is not None:
        lines.append(f"- defined at {_relative(sym.span.path)}:{sym.span.line}:{sym.span.column}")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---- the server ------------------------------------------------------------------------------

class KpirulesServer(LanguageServer):
    """The server, with the last index of each open document that parsed (so that hover and
    completion keep working while a line is half typed)."""

    def __init__(self) -> None:
        from . import __version__
        super().__init__("kpirules", __version__)
        self.indexes: dict[str, symbols.Index] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}

    def analyse_soon(self, uri: str) -> None:
        """Analyse `uri` once changes pause for CHANGE_DELAY seconds."""
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        self.pending[uri] = asyncio.get_running_loop().call_later(CHANGE_DELAY, self._analyse_pending, uri)

    def _analyse_pending(self, uri: str) -> None:
        self.pending.pop(uri, None)
        if uri in self.workspace.text_documents:  # not closed meanwhile
            self.analyse(uri)

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")

    def source_of(self, uri: str) -> SourceFile:
        doc = self.workspace.get_text_document(uri)
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return SourceFile(path=str(Path(path).resolve()) if path else uri, text=strip_bom(doc.source))

    def analyse(self, uri: str) -> None:
        source = self.source_of(uri)
        index = symbols.build(source)
        if index is not None:
            self.indexes[uri] = index
        imports = index.tree.imports if index is not None else ()
        try:
            found = check_text(source)
        except Exception as exc:  # a defect in kpirules: shown in the editor, the server goes on
            from .diagnostics import error
            found = [error("E001", f"internal error ({type(exc).__name__}: {exc}); please report it")]
        diagnostics = [to_lsp_diagnostic(d, source, self.encoding, imports) for d in found]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))

    def index_at(self, uri: str, position: types.Position) -> tuple[symbols.Index, str, int] | None:
        """The document's index, its current text and the offset of `position` in it."""
        index = self.indexes.get(uri)
        if index is None:
            return None
        text = strip_bom(self.workspace.get_text_document(uri).source)
        return index, text, _offset(text, position, self.encoding)


server = KpirulesServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: KpirulesServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.analyse(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def _did_change(ls: KpirulesServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.analyse_soon(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: KpirulesServer, params: types.DidSaveTextDocumentParams) -> None:
    # The saved file may be a module the other open policies import: check them all again.
    for uri in list(ls.workspace.text_documents):
        ls.analyse(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: KpirulesServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.indexes.pop(params.text_document.uri, None)
    handle = ls.pending.pop(params.text_document.uri, None)
    if handle is not None:
        handle.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                        diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: KpirulesServer, params: types.HoverParams) -> types.Hover | None:
    found = ls.index_at(params.text_document.uri, params.position)
    if found is None:
        return None
    index, text, offset = found
    sym = index.lookup(offset, text)
    if sym is None:
        return None
    word = symbols.word_at(text, offset)
    where = None
    if word is not None:
        where = _range(Span(source=SourceFile(path=index.source.path, text=text), start=word[1], end=word[2]),
                       ls.encoding)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_text(sym)),
                       range=where)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: KpirulesServer, params: types.DefinitionParams) -> types.Location | None:
    found = ls.index_at(params.text_document.uri, params.position)
    if found is None:
        return None
    index, text, offset = found
    module = index.import_at(offset) if text == index.source.text else None
    if module is not None:
        start = types.Position(line=0, character=0)
        return types.Location(uri=from_fs_path(str(module.resolve())) or str(module),
                              range=types.Range(start=start, end=start))
    sym = index.lookup(offset, text)
    if sym is None or sym.span is None:
        return None
    return types.Location(uri=_uri_of(sym.span), range=_range(sym.span, ls.encoding))


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
def _completion(ls: KpirulesServer, params: types.CompletionParams) -> types.CompletionList:
    found = ls.index_at(params.text_document.uri, params.position)
    items: dict[str, types.CompletionItem] = {}
    after_dot = False
    if found is not None:
        index, text, offset = found
        word = symbols.word_at(text, offset)
        start = word[1] if word is not None else offset
        after_dot = start > 0 and text[start - 1] == "."
        for sym in index.completions(offset, text):
            items.setdefault(sym.name, types.CompletionItem(
                label=sym.name, kind=_KIND.get(sym.kind, types.CompletionItemKind.Text),
                detail=" · ".join(x for x in (sym.label, sym.type) if x) or sym.kind,
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_text(sym))))
    if not after_dot:
        for fn in symbols.BUILTIN_FUNCTIONS + symbols.calendar_functions():
            items.setdefault(fn, types.CompletionItem(label=fn, kind=types.CompletionItemKind.Function,
                                                      detail="function"))
        for kw in symbols.keywords():
            items.setdefault(kw, types.CompletionItem(label=kw, kind=types.CompletionItemKind.Keyword,
                                                      detail="keyword"))
    return types.CompletionList(is_incomplete=False, items=list(items.values()))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def _formatting(ls: KpirulesServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    from .fmt import format_text
    from .parser import ParseFailure
    source = ls.source_of(params.text_document.uri)
    raw = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        formatted = format_text(source.text, source.path)
    except (ParseFailure, PolicyError):
        return None  # the diagnostics already say why
    if raw.startswith("\ufeff"):
        formatted = "\ufeff" + formatted
    if formatted == raw:
        return []
    whole = SourceFile(path=source.path, text=raw)
    end = _position(whole, len(raw), ls.encoding)
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end),
                           new_text=formatted)]


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def _code_action(ls: KpirulesServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    actions = []
    for d in params.context.diagnostics:
        data = d.data if isinstance(d.data, dict) else {}
        replacement = data.get("replacement")
        if d.source != "kpirules" or not isinstance(replacement, str):
            continue
        edit = types.WorkspaceEdit(changes={params.text_document.uri: [
            types.TextEdit(range=d.range, new_text=replacement)]})
        actions.append(types.CodeAction(title=f"replace with `{replacement}`", kind=types.CodeActionKind.QuickFix,
                                        diagnostics=[d], edit=edit, is_preferred=True))
    return actions


def main() -> int:
    """Serve the protocol on standard input and output until the client says exit."""
    server.start_io()
    return 0
