// The kpirules extension: highlighting comes from the TextMate grammar (package.json); everything
// else (diagnostics, hover, go to definition, completion, formatting, quick fixes) from the
// language server, `kpirules lsp`, started here over standard input and output.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

// The command that starts the server: `kpirules lsp` unless the settings say otherwise (e.g. a
// virtualenv's `/path/to/.venv/bin/kpirules`, or `python` with `["-m", "kpirules", "lsp"]`).
function serverOptions(config) {
  const command = config.get("server.command") || "kpirules";
  const args = config.get("server.args") || ["lsp"];
  return { command, args, transport: TransportKind.stdio };
}

function activate(context) {
  const config = vscode.workspace.getConfiguration("kpirules");
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "kpirules" },
      { scheme: "untitled", language: "kpirules" },
    ],
    // The server's own messages (a missing pygls, an internal error) are kept in this channel.
    outputChannelName: "kpirules",
  };
  client = new LanguageClient("kpirules", "kpirules language server", serverOptions(config), clientOptions);
  const started = client.start();
  if (started && typeof started.catch === "function") {
    started.catch((err) => {
      vscode.window.showWarningMessage(
        "kpirules: the language server did not start (" + err + "). Install it with " +
        "`pip install 'kpirules[lsp]'`, or set `kpirules.server.command` to the kpirules of your virtualenv."
      );
    });
  }
  context.subscriptions.push({ dispose: () => (client ? client.stop() : undefined) });
  return client;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions };
