// The kpirules playground: edit a policy, see its diagnostics where they are, fill the facts of an
// evaluation in a form generated from its declarations, and see the result and the statement.
// Everything comes from the kpirules server that served this page (no other network).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  policyName: null,   // the served policy the text was loaded from (its imports resolve beside it)
  summary: null,      // the last policy text that checked: {evaluations: [{name, facts, outputs}]}
  examples: [],
  words: null,        // keyword classes from /v1/language
  diagnostics: [],
  checkSeq: 0,
  evalSeq: 0,
};

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function status(text) { $("status").textContent = text; }

async function api(method, url, body, type) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.body = body;
    options.headers["Content-Type"] = type || "application/json";
  }
  const response = await fetch(url, options);
  const text = await response.text();
  let data = text;
  if ((response.headers.get("content-type") || "").startsWith("application/json")) data = JSON.parse(text);
  return { status: response.status, data };
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

// ---- highlighting and diagnostics in the editor ---------------------------------------------

const WORD = /[\p{L}_][\p{L}\p{N}_]*/uy;

function tokenize(text) {
  // [start, end, class] in UTF-16 offsets; what is not listed is plain text.
  const out = [];
  const classOf = new Map();
  if (state.words) {
    for (const [cls, words] of Object.entries(state.words.classes)) for (const w of words) classOf.set(w, cls);
    for (const w of state.words.keywords) classOf.set(w, "keyword");
    for (const w of state.words.builtins) classOf.set(w, "builtin");
  }
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "#") {
      let j = text.indexOf("\n", i);
      if (j < 0) j = text.length;
      out.push([i, j, "comment"]);
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      j = Math.min(text.length, j + 1);
      out.push([i, j, "string"]);
      i = j;
    } else if (c >= "0" && c <= "9") {
      const m = /[0-9]+(?:\.[0-9]+)?(?:-[0-9]{2}(?:-[0-9]{2})?)?%?/y;
      m.lastIndex = i;
      const found = m.exec(text);
      out.push([i, i + found[0].length, "number"]);
      i += found[0].length;
    } else {
      WORD.lastIndex = i;
      const found = WORD.exec(text);
      if (found) {
        const cls = classOf.get(found[0]);
        if (cls) out.push([i, i + found[0].length, cls]);
        i += found[0].length;
      } else {
        i += 1;
      }
    }
  }
  return out;
}

function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

function offsetOf(text, starts, line, column) {
  // The server counts columns in code points from 1; JavaScript strings count UTF-16 units.
  if (line < 1) return 0;
  if (line > starts.length) return text.length;
  let at = starts[line - 1];
  for (let col = 1; col < column && at < text.length && text[at] !== "\n"; col++) {
    at += text.codePointAt(at) > 0xffff ? 2 : 1;
  }
  return at;
}

function render() {
  const text = $("source").value;
  const starts = lineStarts(text);
  const marks = [];
  for (const d of state.diagnostics) {
    if (!d.span || (d.span.file && d.span.file !== state.checkedPath)) continue;
    const start = offsetOf(text, starts, d.span.line, d.span.column);
    let end = offsetOf(text, starts, d.span.end_line, d.span.end_column);
    if (end <= start) end = start + 1;  // a point: mark one character (or the end of the text)
    marks.push([start, end, d.severity === "warning" ? "diag-warning" : "diag-error", d]);
  }
  const tokens = tokenize(text);
  const cuts = new Set([0, text.length + 1]);
  for (const [s, e] of tokens) { cuts.add(s); cuts.add(e); }
  for (const [s, e] of marks) { cuts.add(s); cuts.add(e); }
  const points = [...cuts].sort((a, b) => a - b);
  const padded = text + " ";  // a mark at the very end has a character to sit on
  let html = "";
  let t = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k], b = Math.min(points[k + 1], padded.length);
    if (b <= a) continue;
    while (t < tokens.length && tokens[t][1] <= a) t++;
    const classes = [];
    if (t < tokens.length && tokens[t][0] <= a && a < tokens[t][1]) classes.push("t-" + tokens[t][2]);
    const mark = marks.find(([s, e]) => s <= a && a < e);
    let title = "";
    if (mark) {
      classes.push(mark[2], "diag");
      title = ` title="${escapeHtml(mark[3].code + ": " + mark[3].message)}" data-code="${mark[3].code}"`;
    }
    const chunk = escapeHtml(padded.slice(a, b));
    html += classes.length ? `<span class="${classes.join(" ")}"${title}>${chunk}</span>` : chunk;
  }
  $("highlight").innerHTML = html + "\n";
  syncScroll();
}

function syncScroll() {
  $("highlight").scrollTop = $("source").scrollTop;
  $("highlight").scrollLeft = $("source").scrollLeft;
}

function showDiagnostics() {
  const list = $("diagnostics");
  list.replaceChildren();
  for (const d of state.diagnostics) {
    const where = d.span ? `${d.span.file === state.checkedPath ? "" : d.span.file + ":"}${d.span.line}:${d.span.column}` : "";
    const item = el("li", { class: d.severity, "data-code": d.code },
      el("code", { class: "where", text: where }),
      `${d.severity}[${d.code}]: ${d.message}` + (d.help ? ` — ${d.help}` : ""));
    if (d.span && d.span.file === state.checkedPath) item.addEventListener("click", () => jumpTo(d.span));
    list.append(item);
  }
}

function caretProblem() {
  // The problem under the caret, spelled out below the editor (the highlighted copy takes no pointer).
  const area = $("source");
  const text = area.value;
  const before = text.slice(0, area.selectionStart);
  const line = before.split("\n").length;
  const column = Array.from(before.slice(before.lastIndexOf("\n") + 1)).length + 1;
  const here = state.diagnostics.find((d) => d.span && d.span.file === state.checkedPath
    && (d.span.line < line || (d.span.line === line && d.span.column <= column))
    && (d.span.end_line > line || (d.span.end_line === line && d.span.end_column >= column)))
    || state.diagnostics.find((d) => d.span && d.span.file === state.checkedPath && d.span.line === line);
  $("caret-problem").textContent = here ? `${line}:${column} ${here.severity}[${here.code}]: ${here.message}` : "";
}

function jumpTo(span) {
  const text = $("source").value;
  const at = offsetOf(text, lineStarts(text), span.line, span.column);
  const area = $("source");
  area.focus();
  area.setSelectionRange(at, at);
}

// ---- checking as the author types -----------------------------------------------------------

function checkUrl(base) {
  return state.policyName ? `${base}?policy=${encodeURIComponent(state.policyName)}` : base;
}

async function check() {
  const seq = ++state.checkSeq;
  const text = $("source").value;
  const { status: code, data } = await api("POST", checkUrl("/v1/check"), text, "text/plain; charset=utf-8");
  if (seq !== state.checkSeq) return;  // a newer text is being checked
  if (code !== 200) {
    state.diagnostics = data.problems || [];
    $("check-state").textContent = data.message || `error ${code}`;
    $("check-state").className = "state bad";
  } else {
    state.diagnostics = data.diagnostics;
    state.checkedPath = data.path;  // spans in the text itself name this file
    const errors = data.diagnostics.filter((d) => d.severity === "error").length;
    const warnings = data.diagnostics.length - errors;
    $("check-state").textContent = data.ok ? `checks${warnings ? `, ${warnings} warning${warnings > 1 ? "s" : ""}` : ""}`
      : `${errors} error${errors > 1 ? "s" : ""}`;
    $("check-state").className = "state " + (data.ok ? "ok" : "bad");
    $("result-pane").classList.toggle("stale", !data.ok);  // the result is of the last text that checked
    if (data.ok) {
      state.summary = data.policy;
      fillEvaluations();
      buildForm();
      if (!state.loading) evaluate();  // a policy being loaded is evaluated on its first example
    }
  }
  render();
  showDiagnostics();
  caretProblem();
}

const checkSoon = debounce(check, 300);

// ---- the form --------------------------------------------------------------------------------

function currentEvaluation() {
  if (!state.summary) return null;
  const name = $("evaluation").value;
  return state.summary.evaluations.find((e) => e.name === name) || state.summary.evaluations[0] || null;
}

function fillEvaluations() {
  const select = $("evaluation");
  const chosen = select.value;
  select.replaceChildren(...state.summary.evaluations.map((e) =>
    el("option", { value: e.name, text: e.label ? `${e.label} (${e.name})` : e.name })));
  if (state.summary.evaluations.some((e) => e.name === chosen)) select.value = chosen;
}

function hint(spec, withRange) {
  // What the rule as written does not say plainly (a field of a list has no rule of its own: its range too).
  const parts = [];
  if (!withRange) {
    if (spec.type === "percent") parts.push("as a decimal: 0.85 for 85%");
    if (spec.type === "period") parts.push(`a ${spec.unit}: 2026-Q2, 2026-05 or 2026`);
    if (spec.type === "date") parts.push("YYYY-MM-DD");
    return parts.join("; ");
  }
  parts.push(spec.type);
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`${spec.min} … ${spec.max}`);
  else if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.below !== undefined) parts.push(`< ${spec.below}`);
  if (spec.min_fact) parts.push(`≥ ${spec.min_fact}`);
  if (spec.max_fact) parts.push(`≤ ${spec.max_fact}`);
  if (spec.type === "percent") parts.push("as a decimal: 0.85 for 85%");
  if (spec.pattern) parts.push(`matching ${spec.pattern}`);
  if (spec.type === "period") parts.push(`a ${spec.unit}: 2026-Q2, 2026-05 or 2026`);
  return parts.join("; ");
}

const NUMERIC = new Set(["number", "integer", "count", "money", "percent", "points"]);

function scalarInput(spec, path, value) {
  // One value: a text box for numbers (kept as text: exact), a checkbox, a list of choices, a date.
  let input;
  if (spec.type === "boolean") {
    input = el("input", { type: "checkbox", "data-path": path, "data-kind": "boolean" });
    input.checked = value === true;
  } else if (spec.type === "enum") {
    input = el("select", { "data-path": path, "data-kind": "enum" }, el("option", { value: "", text: "—" }),
      ...spec.values.map((v) => el("option", { value: v, text: v })));
    input.value = typeof value === "string" ? value : "";
  } else if (spec.type === "date") {
    input = el("input", { type: "date", "data-path": path, "data-kind": "text" });
    input.value = typeof value === "string" ? value : "";
  } else {
    const numeric = NUMERIC.has(spec.type);
    input = el("input", { type: "text", "data-path": path, "data-kind": numeric ? "number" : "text",
      inputmode: numeric ? "decimal" : null, placeholder: numeric ? spec.type : (spec.type === "period" ? "2026-Q2" : "") });
    input.value = value === undefined || value === null ? "" : String(value);
  }
  input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", evaluateSoon);
  return input;
}

function listRow(f, path, index, value) {
  const rowPath = `${path}[${index}]`;
  const cells = f.fields
    ? f.fields.map((field) => el("td", {}, scalarInput(field, `${rowPath}.${field.name}`, value ? value[field.name] : undefined)))
    : [el("td", {}, scalarInput(f.element || { type: "number" }, rowPath, value))];
  const remove = el("button", { type: "button", class: "remove", text: "remove", title: "remove this row" });
  const row = el("tr", { "data-row": "" }, ...cells, el("td", {}, remove));
  remove.addEventListener("click", () => { const body = row.parentNode; row.remove(); renumber(body, path); evaluateSoon(); });
  return row;
}

function renumber(body, path) {
  // Paths follow the rows' positions, so that a problem at `projects[2].amount` marks the third row.
  [...body.children].forEach((row, i) => {
    for (const input of row.querySelectorAll("[data-path]")) {
      input.dataset.path = input.dataset.path.replace(/^([^\[]+)\[\d+\]/, `${path}[${i}]`);
    }
  });
}

function factField(f, value) {
  const box = el("div", { class: "fact", "data-fact": f.name });
  const title = [f.label || f.name, " ", el("span", { class: "name", text: f.label ? f.name : "" })];
  const hintText = el("span", { class: "hint", text: [f.rule, hint(f)].filter(Boolean).join(" — ") });
  if (f.type === "list") {
    const head = f.fields
      ? el("tr", {}, ...f.fields.map((field) => el("th", { text: field.label || field.name, title: `${field.name}: ${hint(field, true)}` })), el("th"))
      : null;
    const body = el("tbody");
    (Array.isArray(value) ? value : []).forEach((v, i) => body.append(listRow(f, f.name, i, v)));
    const add = el("button", { type: "button", class: "add", text: "add a row" });
    add.addEventListener("click", () => { body.append(listRow(f, f.name, body.children.length, undefined)); evaluateSoon(); });
    box.append(el("span", { class: "label" }, ...title), hintText,
      el("table", { "data-list": f.name }, head ? el("thead", {}, head) : null, body), add);
  } else if (f.type === "record") {
    const element = f.element || { type: "number" };
    const rows = f.keys.map((key) => {
      const input = scalarInput(element, `${f.name}.${key}`, value ? value[key] : undefined);
      return el("tr", {}, el("td", { text: key }), el("td", {}, input));
    });
    box.append(el("span", { class: "label" }, ...title), hintText, el("table", { "data-record": f.name }, el("tbody", {}, ...rows)));
  } else {
    const input = scalarInput(f, f.name, value);
    input.id = "fact-" + f.name;
    box.append(el("label", { for: input.id }, ...title), hintText, input);
  }
  box.append(el("span", { class: "problem" }));
  return box;
}

function buildForm(values) {
  const ev = currentEvaluation();
  const form = $("facts");
  const keep = values || collectFacts();  // what the author typed stays, by fact name
  form.replaceChildren();
  if (!ev) return;
  for (const f of ev.facts) form.append(factField(f, keep[f.name]));
  showExamples();
}

function readInput(input) {
  if (input.dataset.kind === "boolean") return input.checked;
  const v = input.value.trim();
  return v === "" ? undefined : v;  // numbers stay text: the server reads "36000.00" exactly
}

function collectFacts() {
  const facts = {};
  const form = $("facts");
  for (const box of form.querySelectorAll(".fact")) {
    const name = box.dataset.fact;
    const list = box.querySelector("table[data-list]");
    const record = box.querySelector("table[data-record]");
    if (list) {
      facts[name] = [...list.tBodies[0].rows].map((row) => {
        const inputs = [...row.querySelectorAll("[data-path]")];
        if (inputs.length === 1 && !inputs[0].dataset.path.includes("].")) return readInput(inputs[0]) ?? "";
        const item = {};
        for (const input of inputs) {
          const v = readInput(input);
          if (v !== undefined) item[input.dataset.path.split(".").pop()] = v;
        }
        return item;
      });
    } else if (record) {
      const item = {};
      for (const input of record.querySelectorAll("[data-path]")) {
        const v = readInput(input);
        if (v !== undefined) item[input.dataset.path.split(".").pop()] = v;
      }
      facts[name] = item;
    } else {
      const input = box.querySelector("[data-path]");
      const v = input ? readInput(input) : undefined;
      if (v !== undefined) facts[name] = v;
    }
  }
  return facts;
}

// ---- examples --------------------------------------------------------------------------------

function showExamples() {
  const box = $("examples");
  const ev = currentEvaluation();
  box.replaceChildren();
  state.examples.forEach((ex) => {
    if (!ex.facts || (ev && ex.evaluation !== ev.name)) return;
    const button = el("button", { type: "button", text: ex.name, title: `example on line ${ex.line}` + (ex.from ? `, from ${ex.from}` : "") });
    button.addEventListener("click", () => useExample(ex));
    box.append(button);
  });
}

function useExample(ex) {
  if (ex.evaluation !== $("evaluation").value) $("evaluation").value = ex.evaluation;
  $("as-of").value = ex.as_of || "";
  buildForm(ex.facts);
  evaluate();
}

// ---- evaluating ------------------------------------------------------------------------------

function markProblems(problems) {
  const form = $("facts");
  for (const node of form.querySelectorAll(".bad")) node.classList.remove("bad");
  for (const node of form.querySelectorAll(".problem")) node.textContent = "";
  const list = $("fact-problems");
  list.replaceChildren();
  for (const p of problems) {
    const input = form.querySelector(`[data-path="${CSS.escape(p.path || "")}"]`);
    const box = form.querySelector(`.fact[data-fact="${CSS.escape((p.path || "").split(/[.\[]/)[0])}"]`);
    if (input) input.classList.add("bad");
    if (box) {
      box.classList.add("bad");
      const slot = box.querySelector(":scope > .problem");
      slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + (input ? "" : `${p.path}: `) + p.message;
    }
    list.append(el("li", { "data-code": p.code }, el("code", { class: "where", text: p.path || "" }), `${p.severity}[${p.code}]: ${p.message}`));
  }
}

// A value as the table shows it; a per-member value (an object from member key to value, in list
// order) as `E01: 2694.78, E02: 2987.70`.
function shownValue(value) {
  if (typeof value === "boolean") return String(value);
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k}: ${shownValue(v)}`).join(", ");
  }
  return value;
}

function showResult(result, outputs, labelled) {
  const body = $("values").tBodies[0];
  body.replaceChildren();
  if (!result) return;
  const labels = new Map(Object.entries(labelled || {}));
  const names = Object.keys(result.values);
  const order = [...outputs, ...names.filter((n) => !outputs.includes(n))];
  for (const name of order) {
    const value = result.values[name];
    const row = el("tr", { class: outputs.includes(name) ? "output" : "", "data-value": name },
      el("td", { text: labels.get(name) ? `${labels.get(name)} (${name})` : name }),
      el("td", { class: "num", text: shownValue(value) }));
    body.append(row);
  }
}

async function evaluate() {
  const ev = currentEvaluation();
  if (!ev) return;
  const seq = ++state.evalSeq;
  const lang = $("lang").value;
  const explain = $("explain").checked;
  const body = { policy: $("source").value, facts: collectFacts(), evaluation: ev.name };
  if ($("as-of").value) body.as_of = $("as-of").value;
  const base = checkUrl("/v1/playground/evaluate");
  const url = `${base}${base.includes("?") ? "&" : "?"}lang=${lang}&explain=${explain}`;
  status("evaluating…");
  const { status: code, data } = await api("POST", url, JSON.stringify(body));
  if (seq !== state.evalSeq) return;
  if (code === 200) {
    markProblems(data.result.warnings || []);
    showResult(data.result, ev.outputs, data.labels || {});
    $("statement").srcdoc = data.statement;
    const shown = ev.outputs.map((o) => `${o} = ${shownValue(data.result.values[o])}`).join("; ");
    status(`evaluated: ${shown.length > 160 ? shown.slice(0, 159) + "…" : shown}`);
  } else {
    markProblems(data.error === "bad_facts" ? data.problems : []);
    if (data.error !== "bad_facts") {
      $("fact-problems").append(el("li", {}, `${data.error}: ${data.message}`),
        ...(data.problems || []).map((p) => el("li", { "data-code": p.code }, `${p.code}: ${p.message}`)));
    }
    showResult(null, [], {});
    $("statement").srcdoc = "";
    status(`not evaluated: ${data.message || code}`);
  }
}

const evaluateSoon = debounce(evaluate, 250);

// ---- choosing a policy -----------------------------------------------------------------------

async function loadPolicy(name) {
  state.policyName = name;
  state.summary = null;
  const [source, examples] = await Promise.all([
    api("GET", `/v1/policies/${encodeURIComponent(name)}/source`),
    api("GET", `/v1/policies/${encodeURIComponent(name)}/examples`),
  ]);
  state.examples = examples.status === 200 ? examples.data.examples : [];
  $("source").value = source.status === 200 ? source.data : "";
  $("evaluation").replaceChildren();
  $("facts").replaceChildren();
  state.loading = true;
  try { await check(); } finally { state.loading = false; }
  const first = state.examples.find((ex) => ex.facts && !ex.expects_errors && ex.evaluation === $("evaluation").value);
  if (first) useExample(first);
  else evaluate();
}

async function start() {
  const [policies, words] = await Promise.all([api("GET", "/v1/policies"), api("GET", "/v1/language")]);
  state.words = words.data;
  const select = $("policy");
  const served = policies.data.policies.filter((p) => p.status === "ok");
  select.replaceChildren(...served.map((p) => el("option", { value: p.name, text: p.label ? `${p.label} (${p.name})` : p.name })),
    el("option", { value: "", text: "(a new policy)" }));
  const wanted = new URLSearchParams(location.search).get("policy");
  if (wanted !== null && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
  select.addEventListener("change", () => {
    if (select.value) loadPolicy(select.value);
    else {
      state.policyName = null; state.examples = [];
      $("source").value = 'policy demo "示例" version "1"\n\nevaluation monthly "月度奖金":\n    fact sales "销售额": money >= 0\n    output bonus "奖金" = sales * 10%\n        round half up to 0.01\n';
      $("facts").replaceChildren();
      check();
    }
  });
  $("source").addEventListener("input", () => { render(); checkSoon(); });
  $("source").addEventListener("scroll", syncScroll);
  for (const kind of ["keyup", "click", "focus"]) $("source").addEventListener(kind, caretProblem);
  $("source").addEventListener("keydown", (e) => {
    if (e.key === "Tab") {  // indent with four spaces, as the language does
      e.preventDefault();
      document.execCommand("insertText", false, "    ");
    }
  });
  $("evaluation").addEventListener("change", () => { buildForm(); evaluate(); });
  for (const id of ["lang", "explain", "as-of"]) $(id).addEventListener("change", evaluate);
  if (select.value) await loadPolicy(select.value);
  else select.dispatchEvent(new Event("change"));
  document.body.dataset.ready = "true";
}

start().catch((e) => status(`cannot start: ${e}`));
