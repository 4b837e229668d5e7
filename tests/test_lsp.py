"""The language server (`kpirules lsp`), spoken to as an editor would: a real `python -m kpirules lsp`
process, JSON-RPC messages framed with Content-Length headers on its standard input and output."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the language server needs pygls (pip install 'kpirules[lsp]')")

from kpirules.fmt import format_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


class Client:
    """A minimal LSP client: requests wait for their response; notifications are queued."""

    def __init__(self, cwd: Path):
        env = dict(os.environ)
        src = str(ROOT / "src")
        if (ROOT / "src" / "kpirules").is_dir():  # test the tree under test, installed or not
            env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen([sys.executable, "-m", "kpirules", "lsp"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0
        self.inbox: queue.Queue = queue.Queue()
        self.notifications: list = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "a message without Content-Length"
            self.inbox.put(json.loads(out.read(length).decode("utf-8")))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.proc.stdin.flush()

    def _next(self) -> dict:
        try:
            message = self.inbox.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("the server did not answer in time") from None
        if message is None:
            err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
            raise AssertionError(f"the server closed its output:\n{err}")
        if "method" in message and "id" in message:  # a request from the server: say yes, with nothing
            self.send({"id": message["id"], "result": None})
            return self._next()
        return message

    def request(self, method: str, params) -> object:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        while True:
            message = self._next()
            if message.get("id") == ident:
                assert "error" not in message, message
                return message.get("result")
            self.notifications.append(message)

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str) -> list:
        """The next diagnostics the server publishes for `uri`."""
        while True:
            for i, message in enumerate(self.notifications):
                if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                    del self.notifications[: i + 1]
                    return message["params"]["diagnostics"]
            self.notifications.clear()
            self.notifications.append(self._next())

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def position_of(text: str, needle: str, after: str = "", delta: int = 0) -> dict:
    """The LSP position (UTF-16 columns) of `needle` in `text`, searched after `after`."""
    offset = text.index(needle, text.index(after) if after else 0) + delta
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


@pytest.fixture
def workspace(tmp_path):
    """A copy of the U8 policy beside a copy of ruleset/, so that `import presales` resolves."""
    shutil.copytree(ROOT / "ruleset", tmp_path / "ruleset")
    (tmp_path / "policies").mkdir()
    policy = tmp_path / "policies" / "u8.rules"
    shutil.copy(ROOT / "policies" / "u8_presales.rules", policy)
    return tmp_path, policy


@pytest.fixture
def client(workspace):
    root, _policy = workspace
    c = Client(root)
    result = c.request("initialize", {"processId": os.getpid(), "rootUri": uri_of(root), "capabilities": {}})
    c.notify("initialized", {})
    c.capabilities = result["capabilities"]
    yield c
    if c.proc.poll() is None:
        c.proc.kill()
        c.proc.wait()


def open_doc(client, path: Path, text: str | None = None) -> str:
    uri = uri_of(path)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "kpirules", "version": 1,
        "text": path.read_text(encoding="utf-8") if text is None else text}})
    return uri


def test_initialize_announces_every_feature(client):
    caps = client.capabilities
    assert caps["hoverProvider"]
    assert caps["definitionProvider"]
    assert caps["documentFormattingProvider"]
    assert "." in caps["completionProvider"]["triggerCharacters"]
    assert "quickfix" in caps["codeActionProvider"]["codeActionKinds"]
    assert client.close() == 0


def test_diagnostics_on_open_and_change_and_a_quick_fix(client, workspace):
    _root, policy = workspace
    good = policy.read_text(encoding="utf-8")
    broken = good.replace("ladder projects_won / projects_supported", "ladder projets_won / projects_supported")
    assert broken != good
    uri = open_doc(client, policy, broken)
    found = client.diagnostics(uri)
    errors = [d for d in found if d["code"] == "E201"]
    assert len(errors) == 1, found
    diag = errors[0]
    assert diag["severity"] == 1 and diag["source"] == "kpirules"
    assert "unknown name `projets_won`" in diag["message"]
    assert "did you mean `projects_won`?" in diag["message"]
    start = position_of(broken, "projets_won")
    assert diag["range"]["start"] == start
    assert diag["range"]["end"] == {"line": start["line"], "character": start["character"] + len("projets_won")}

    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})
    assert len(actions) == 1
    fix = actions[0]
    assert fix["kind"] == "quickfix" and fix["title"] == "replace with `projects_won`"
    assert fix["edit"]["changes"][uri] == [{"range": diag["range"], "newText": "projects_won"}]

    # The fix applied as the editor would, as a change: the diagnostics clear.
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": diag["range"], "text": "projects_won"}]})
    assert [d for d in client.diagnostics(uri) if d["severity"] == 1] == []
    # A syntax error while typing is reported at its place too.
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": good.replace("floor 0\n", "floor\n", 1)}]})
    syntax = client.diagnostics(uri)
    assert syntax and syntax[0]["code"].startswith("E1"), syntax
    assert client.close() == 0


def test_columns_count_utf16_code_units(client, workspace):
    """A character outside the BMP (an emoji in a label) counts two columns, as editors count."""
    _root, policy = workspace
    text = policy.read_text(encoding="utf-8").replace(
        'output own_base "个人季度任务基数" = own_target * 70%',
        'output own_base "个人😀基数" = own_targt * 70%')
    uri = open_doc(client, policy, text)
    diag = next(d for d in client.diagnostics(uri) if d["code"] == "E201")
    assert diag["range"]["start"] == position_of(text, "own_targt")
    client.close()


def test_a_problem_in_an_imported_module_is_shown_on_the_import_line(client, workspace):
    root, policy = workspace
    module = root / "ruleset" / "presales.rules"
    module.write_text(module.read_text(encoding="utf-8").replace("(actual - target", "(actul - target"),
                      encoding="utf-8")
    text = policy.read_text(encoding="utf-8")
    uri = open_doc(client, policy)
    diag = next(d for d in client.diagnostics(uri) if d["code"] == "E201")
    assert diag["range"]["start"] == position_of(text, "import presales")
    assert "presales.rules:" in diag["message"] and "`actul`" in diag["message"]
    client.close()


def test_hover_shows_label_type_unit_rule_cite_and_where(client, workspace):
    _root, policy = workspace
    text = policy.read_text(encoding="utf-8")
    uri = open_doc(client, policy)
    client.diagnostics(uri)

    def hover(needle, after=""):
        result = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                       "position": position_of(text, needle, after, 2)})
        return result["contents"]["value"] if result else None

    fact = hover("projects_won /", "scorecard")
    assert "**成功项目数** `projects_won`" in fact
    assert "fact of evaluation quarterly" in fact
    assert "- type: count" in fact and "- unit: count" in fact
    assert "- declared: `count <= projects_supported`" in fact
    line = text[: text.index("fact projects_won")].count("\n") + 1
    assert f"- defined at policies/u8.rules:{line}:10" in fact

    salary = hover("base_salary *")
    assert "- unit: money" in salary and "- declared: `money >= 0`" in salary

    table = hover("quarter_split[quarter]")
    assert "table" in table and "- declared: `(quarter) -> percent`" in table and "- unit: percent" in table

    function = hover("completion_rate(dept_revenue")
    assert "**收入目标完成率** `completion_rate`" in function
    assert "- cite: “收入目标完成率=" in function
    assert "- defined at ruleset/presales.rules:12:" in function

    key = hover("sales_tools", "rollout")  # a record key, in the fact's declaration
    assert "`sales_tools`" in key and "key of fact rollout" in key

    item = hover("project_success ")
    assert "item of scorecard kpi_score of evaluation quarterly" in item and "weight 20" in item
    assert hover("    ", "evaluation quarterly") is None  # blank space: nothing to show
    client.close()


def test_go_to_definition_in_the_file_and_into_ruleset_modules(client, workspace):
    root, policy = workspace
    text = policy.read_text(encoding="utf-8")
    uri = open_doc(client, policy)
    client.diagnostics(uri)

    def definition(needle, after=""):
        return client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                          "position": position_of(text, needle, after, 1)})

    local = definition("projects_supported", "scorecard")
    assert local["uri"] == uri
    assert local["range"]["start"] == position_of(text, "projects_supported", "fact projects_supported")

    module = root / "ruleset" / "presales.rules"
    module_text = module.read_text(encoding="utf-8")
    function = definition("completion_rate(dept_revenue")
    assert function["uri"] == uri_of(module)
    assert function["range"]["start"] == position_of(module_text, "completion_rate", "function")
    ladder = definition("u8_rate_steps")
    assert ladder["uri"] == uri_of(module)
    assert ladder["range"]["start"] == position_of(module_text, "u8_rate_steps")

    imported = definition("presales", "import")
    assert imported["uri"] == uri_of(module)
    assert imported["range"]["start"] == {"line": 0, "character": 0}
    assert definition("  ", "evaluation quarterly") is None
    client.close()


def test_completion_of_names_fields_keys_and_keywords(client, workspace):
    _root, policy = workspace
    text = policy.read_text(encoding="utf-8")
    uri = open_doc(client, policy)
    client.diagnostics(uri)

    def labels(position):
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": position})
        return {item["label"]: item for item in result["items"]}

    names = labels(position_of(text, "projects_won /", "scorecard"))
    assert {"projects_won", "base_salary", "quarter_split", "completion_rate", "kpi_score"} <= set(names)
    assert {"floor", "cap", "if", "round", "max"} <= set(names)
    assert names["base_salary"]["detail"] == "季度基本工资 · money"
    assert "big_project_bonus" not in names  # a value of the other evaluation is not in scope

    typed = text.replace("minus 5 if not sales_training_on_plan", "minus 5 if not rollout.")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": typed}]})
    client.diagnostics(uri)
    keys = labels(position_of(typed, "rollout.", "minus 5 if not", len("rollout.")))
    assert set(keys) == {"market_activity", "sales_training", "sales_tools", "competitor_analysis",
                         "proposal_excellence"}

    fields = labels(position_of(text, "contract_amount >=", "evaluation monthly"))
    assert {"contract_amount", "collected"} <= set(fields)  # the fields of the list the line goes over
    client.close()


def test_formatting_is_kpirules_fmt(client, workspace):
    _root, policy = workspace
    messy = policy.read_text(encoding="utf-8").replace("    1 -> 15%", "    1   ->   15%").replace(
        "dept_target * 70%", "dept_target*70%")
    uri = open_doc(client, policy, messy)
    client.diagnostics(uri)
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 4, "insertSpaces": True}})
    assert len(edits) == 1
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}
    assert edits[0]["newText"] == format_text(messy)
    assert "1 -> 15%" in edits[0]["newText"] and "dept_target * 70%" in edits[0]["newText"]
    # A text already in layout needs no edit; one that does not parse gets none.
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": format_text(messy)}]})
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {
        "tabSize": 4, "insertSpaces": True}}) == []
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": "policy p\nevaluation e:\n  ?\n"}]})
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {
        "tabSize": 4, "insertSpaces": True}}) is None
    assert client.close() == 0


def test_closing_a_document_clears_its_diagnostics(client, workspace):
    _root, policy = workspace
    uri = open_doc(client, policy, "policy p\n")
    assert client.diagnostics(uri)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []
    assert client.close() == 0


def test_quick_changes_are_checked_once_after_the_last(client, workspace):
    _root, policy = workspace
    good = policy.read_text(encoding="utf-8")
    uri = open_doc(client, policy)
    client.diagnostics(uri)
    for version, typo in enumerate(["p", "pr", "pro", "proj"], 2):  # an author typing a name
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": good.replace(
                                                     "= month\n", f"= {typo}\n")}]})
    found = client.diagnostics(uri)
    assert [d["message"].splitlines()[0] for d in found if d["code"] == "E201"] == ["unknown name `proj`"]
    client.request("shutdown", None)  # nothing else was published meanwhile
    assert not [m for m in client.notifications if m.get("method") == "textDocument/publishDiagnostics"]


def test_saving_a_module_checks_the_policies_that_import_it_again(client, workspace):
    root, policy = workspace
    module = root / "ruleset" / "presales.rules"
    uri = open_doc(client, policy)
    assert [d for d in client.diagnostics(uri) if d["severity"] == 1] == []
    module_uri = open_doc(client, module)
    client.diagnostics(module_uri)
    module.write_text(module.read_text(encoding="utf-8").replace("(actual - target", "(actul - target"),
                      encoding="utf-8")
    client.notify("textDocument/didSave", {"textDocument": {"uri": module_uri}})
    found = client.diagnostics(uri)
    assert any(d["code"] == "E201" and "`actul`" in d["message"] for d in found)
    client.close()


def test_positions_after_a_character_outside_the_bmp_are_read_in_utf16(client, workspace):
    """A hover asked at a UTF-16 column after an emoji finds the name under the cursor."""
    _root, policy = workspace
    text = policy.read_text(encoding="utf-8").replace(
        'output own_base "个人季度任务基数" = own_target * 70%', 'output own_base "个人😀基数" = own_target * 70%')
    uri = open_doc(client, policy, text)
    client.diagnostics(uri)
    at = position_of(text, "own_target * 70%", "😀", 1)
    result = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})
    assert "`own_target`" in result["contents"]["value"]
    assert result["range"]["start"] == position_of(text, "own_target * 70%", "😀")
    client.close()
