"""docs/authoring.md is a walk-through that really happens: this test does every step of it, in
order, in a temporary copy of the repository's policies/, ruleset/ and examples/, and checks that
each command prints what the page shows.

How the page marks its steps (the markers are HTML comments, invisible when it is rendered):

- A ```` ```console ```` block: each line starting with `$ ` is a command, the lines after it
  (up to the next `$ ` line) are what it prints, standard output and standard error together, as
  in a terminal. Commands are `kpirules ...` (run in this process, `> FILE` writes its standard
  output to FILE) and `cp FROM TO`. Every command exits 0, except the block's last one, which
  exits with the status of ```` ```console exit=N ````.
- `<!-- edit PATH -->` then two fenced blocks: the text of the first, found exactly once in PATH,
  is replaced by the text of the second.
- `<!-- append PATH -->` then one fenced block: added at the end of PATH.
- `<!-- shows PATH -->` then one fenced block: its text is in PATH at that point of the walk.
- `<!-- has PATH "TEXT" "TEXT" ... -->`: each quoted text is in PATH at that point.

`pytest --update-golden` rewrites the output shown in the console blocks from what the commands
print (review the diff of docs/authoring.md before committing it).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import attrs
import pytest

from kpirules.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "authoring.md"
TEXT = PAGE.read_text(encoding="utf-8")

_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*(?P<kind>edit|append|shows|has)\s+(?P<rest>.*?)\s*-->", re.S)


@attrs.frozen
class Step:
    kind: str            # console, edit, append, shows, has
    line: int            # line of the page where the step starts
    path: str = ""
    blocks: tuple = ()   # the bodies of the fenced blocks it uses
    info: str = ""       # console: the fence's info string
    span: tuple = ()     # console: (start, end) of the block's body in the page
    texts: tuple = ()    # has: the quoted texts


def _line(pos: int) -> int:
    return TEXT.count("\n", 0, pos) + 1


def read_steps(text: str = TEXT) -> list[Step]:
    fences = list(_FENCE.finditer(text))
    steps = []
    used = set()
    for m in _MARKER.finditer(text):
        kind, rest = m.group("kind"), m.group("rest")
        if kind == "has":
            path, _, quoted = rest.partition(" ")
            steps.append(Step(kind, _line(m.start()), path, texts=tuple(re.findall(r'"([^"]*)"', quoted))))
            continue
        need = 2 if kind == "edit" else 1
        after = [f for f in fences if f.start() > m.end()][:need]
        assert len(after) == need, f"docs/authoring.md line {_line(m.start())}: `{kind}` needs {need} block(s)"
        used.update(f.start() for f in after)
        steps.append(Step(kind, _line(m.start()), rest.strip(), tuple(f.group("body") for f in after)))
    for f in fences:
        info = f.group("info").strip()
        if info.split()[:1] == ["console"]:
            assert f.start() not in used
            steps.append(Step("console", _line(f.start()), blocks=(f.group("body"),), info=info,
                              span=(f.start("body"), f.end("body"))))
    return sorted(steps, key=lambda s: s.line)


STEPS = read_steps()
CONSOLES = [s for s in STEPS if s.kind == "console"]


def commands(body: str) -> list[tuple[str, str]]:
    """`(command, output shown)` pairs of a console block."""
    out: list[list] = []
    for line in body.splitlines(keepends=True):
        if line.startswith("$ "):
            out.append([line[2:].rstrip("\n"), ""])
        else:
            assert out, f"console output before any command: {line!r}"
            out[-1][1] += line
    return [(c, o) for c, o in out]


def expected_exit(step: Step) -> int:
    m = re.search(r"\bexit=(\d+)", step.info)
    return int(m.group(1)) if m else 0


def run(command: str, cwd: Path) -> tuple[str, int]:
    """What `command` prints (stdout and stderr as a terminal shows them) and its exit status."""
    words = shlex.split(command)
    if words[0] == "cp":
        shutil.copyfile(cwd / words[1], cwd / words[2])
        return "", 0
    assert words[0] == "kpirules", f"the page may only run kpirules and cp: {command}"
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    shown = io.StringIO()
    stdout = io.StringIO() if target else shown
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(shown):
        code = main(words[1:])
    if target:
        (cwd / target).write_text(stdout.getvalue(), encoding="utf-8")
    text = shown.getvalue()
    for prefix in (str(cwd.resolve()), str(cwd)):  # temporary paths, should any be printed
        text = text.replace(prefix + "/", "").replace(prefix, ".")
    return text, code


@pytest.fixture(scope="module")
def walk(tmp_path_factory, request):
    """Do every step of the page once; the output and exit status of each console block."""
    cwd = tmp_path_factory.mktemp("authoring")
    for folder in ("policies", "ruleset", "examples"):
        shutil.copytree(ROOT / folder, cwd / folder)
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        for step in STEPS:
            problem = None
            path = cwd / step.path if step.path else None
            if step.kind == "edit":
                old, new = step.blocks
                text = path.read_text(encoding="utf-8")
                if text.count(old) != 1:
                    problem = f"the text to edit is found {text.count(old)} times in {step.path}:\n{old}"
                else:
                    path.write_text(text.replace(old, new), encoding="utf-8")
            elif step.kind == "append":
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(step.blocks[0])
            elif step.kind == "shows":
                if step.blocks[0] not in path.read_text(encoding="utf-8"):
                    problem = f"{step.path} does not hold the text shown:\n{step.blocks[0]}"
            elif step.kind == "has":
                missing = [t for t in step.texts if t not in path.read_text(encoding="utf-8")]
                if missing:
                    problem = f"{step.path} does not hold {missing}"
            else:
                pairs = commands(step.blocks[0])
                printed, codes = "", []
                for command, _ in pairs:
                    out, code = run(command, cwd)
                    printed += f"$ {command}\n{out}"
                    codes.append(code)
                results[step.line] = (printed, codes)
            if problem:
                results[step.line] = problem
    if request.config.getoption("--update-golden"):
        _rewrite(results)
    return results


def _rewrite(results) -> None:
    """Put the real output of each console block into the page."""
    text = PAGE.read_text(encoding="utf-8")
    assert text == TEXT, "docs/authoring.md changed while the test ran"
    for step in sorted(CONSOLES, key=lambda s: -s.span[0]):
        printed, _ = results[step.line]
        start, end = step.span
        text = text[:start] + printed + text[end:]
    PAGE.write_text(text, encoding="utf-8")


def test_the_page_walks_through_the_whole_loop():
    shown = " ".join(c for s in CONSOLES for c, _ in commands(s.blocks[0]))
    for command in ("kpirules check ", "kpirules check --strict", "kpirules fmt --check", "kpirules fmt ",
                    "kpirules test ", "kpirules test --coverage --min-coverage 100", "--explain",
                    "--format html", "--lang zh"):
        assert command in shown, f"docs/authoring.md does not run `{command.strip()}`"
    kinds = {s.kind for s in STEPS}
    assert {"console", "edit", "append", "shows", "has"} <= kinds
    # A marker misspelt would be skipped silently: every `<!--` of the page is one that was read.
    assert TEXT.count("<!--") == sum(1 for s in STEPS if s.kind != "console")


def test_the_page_shows_failures_and_their_fixes():
    codes = [expected_exit(s) for s in CONSOLES]
    assert codes.count(0) >= 5 and any(c == 1 for c in codes) and any(c == 2 for c in codes)


def test_what_the_prose_quotes_of_the_output_is_in_the_output(walk):
    """The explanations around the blocks quote places and values from them: they must be there."""
    prose = re.sub(r"<!--.*?-->", "", _FENCE.sub("", TEXT), flags=re.S)
    printed = "".join(out for out, _ in (v for v in walk.values() if isinstance(v, tuple)))
    quoted = re.findall(r"`+ ?([^`]*(?:\.rules:\d|expected )[^`]*?) ?`+", prose)
    assert len(quoted) >= 2
    for text in quoted:
        assert text in printed, f"docs/authoring.md quotes `{text}`, which no command of the page prints"


@pytest.mark.parametrize("step", [s for s in STEPS if s.kind != "console"], ids=lambda s: f"line{s.line}-{s.kind}")
def test_edit_step_applies(step, walk):
    assert step.line not in walk, f"docs/authoring.md line {step.line}: {walk.get(step.line)}"


@pytest.mark.parametrize("step", CONSOLES, ids=lambda s: f"line{s.line}")
def test_command_output_shown_is_real(step, walk):
    printed, codes = walk[step.line]
    assert printed == step.blocks[0], (
        f"docs/authoring.md line {step.line}: the commands print (run `pytest --update-golden "
        f"tests/test_authoring_doc.py` to rewrite the page, and review the diff):\n{printed}")
    assert codes[:-1] == [0] * (len(codes) - 1), f"line {step.line}: a command before the last failed: {codes}"
    assert codes[-1] == expected_exit(step), f"line {step.line}: exit status {codes[-1]}"
