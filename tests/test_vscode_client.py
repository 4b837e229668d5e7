"""The VS Code extension (editors/vscode/) starts the language server as `kpirules lsp`: its
package.json declares the client, and extension.js, run by Node with stand-ins for the `vscode`
and `vscode-languageclient` modules, builds a client for kpirules documents with that command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kpirules.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
VSCODE = ROOT / "editors" / "vscode"

# Replaces `require` for the two modules VS Code provides at run time, then activates the
# extension and prints what it built.
HARNESS = r"""
const Module = require("module");
const seen = {};
const fakes = {
  "vscode": {
    workspace: { getConfiguration: (section) => { seen.section = section; return { get: (key) => SETTINGS[key] }; } },
    window: { showWarningMessage: (m) => { seen.warning = m; } },
  },
  "vscode-languageclient/node": {
    TransportKind: { stdio: 0 },
    LanguageClient: class {
      constructor(id, name, server, client) { Object.assign(seen, { id, name, server, client }); }
      start() { seen.started = true; return Promise.resolve(); }
      stop() { seen.stopped = true; return Promise.resolve(); }
    },
  },
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  return request in fakes ? fakes[request] : load.apply(this, arguments);
};
const extension = require(process.argv[2]);
const context = { subscriptions: [] };
extension.activate(context);
seen.subscriptions = context.subscriptions.length;
Promise.resolve(extension.deactivate()).then(() => console.log(JSON.stringify(seen)));
"""


def test_package_json_declares_the_language_client():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    assert package["main"] == "./extension.js" and (VSCODE / "extension.js").is_file()
    assert "onLanguage:kpirules" in package["activationEvents"]
    assert "vscode-languageclient" in package["dependencies"]
    settings = package["contributes"]["configuration"]["properties"]
    assert settings["kpirules.server.command"]["default"] == "kpirules"
    assert settings["kpirules.server.args"]["default"] == ["lsp"]
    subcommands = _parser()._subparsers._group_actions[0].choices  # the CLI has the subcommand it starts
    assert "lsp" in subcommands


def run_extension(tmp_path, settings: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    harness = tmp_path / "harness.js"
    harness.write_text(f"const SETTINGS = {json.dumps(settings)};\n" + HARNESS, encoding="utf-8")
    done = subprocess.run([node, str(harness), str(VSCODE / "extension.js")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_extension_starts_kpirules_lsp_for_kpirules_documents(tmp_path):
    seen = run_extension(tmp_path, {})
    assert seen["section"] == "kpirules"
    assert seen["server"] == {"command": "kpirules", "args": ["lsp"], "transport": 0}
    assert {"scheme": "file", "language": "kpirules"} in seen["client"]["documentSelector"]
    assert seen["started"] and seen["stopped"] and seen["subscriptions"] == 1
    assert "warning" not in seen


def test_extension_takes_the_command_from_the_settings(tmp_path):
    seen = run_extension(tmp_path, {"server.command": "/venv/bin/python", "server.args": ["-m", "kpirules", "lsp"]})
    assert seen["server"]["command"] == "/venv/bin/python"
    assert seen["server"]["args"] == ["-m", "kpirules", "lsp"]
