"""Markdown renderer: the statement (what was paid, item by item) and the working an auditor follows.

Reads only the JSON form of a result (Result.to_json()), like render/text.py. This module also
holds the statement's structure shared with render/html.py (`statement()`, `working()`): plain
data with unescaped text, which each renderer escapes for its own format.

Layout, in order: the STATEMENT (policy, evaluation, each output with its amount; a rounded sum
over a list shows each line's rounded amount, so the lines add up to the total shown; each
scorecard with its items; notes on what did not count, floors and caps that bit, and where each
rounding happened), then the WORKING (facts, then every value with its formula, working, the
sentences of what shaped it, the values it read, the policy's citations and its source line).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .. import exact as x
from .reasons import number, sentence

HEAD = {
    "en": {
        "statement": "Statement", "working_section": "Working", "facts": "Facts", "outputs": "Outputs",
        "output": "output", "item": "item", "value": "value", "scorecard": "scorecard", "input": "fact",
        "item_col": "Item", "amount": "Amount", "weight": "Weight", "score": "Score", "total": "Total", "line": "Line",
        "notes": "Notes", "policy": "Policy", "version": "version", "evaluation": "Evaluation",
        "sha": "policy sha256", "facts_sha": "facts sha256", "engine": "engine", "schema": "trace schema",
        "as_of": "as of", "version_in_force": "version in force", "from": "from", "until": "until",
        "formula": "formula", "working": "working", "reads": "reads", "cite": "cite", "note": "note",
        "source": "source", "exact": "exactly", "tags": "tags", "excluded": "excluded", "steps": "what shaped it",
        "lines": "lines", "warning": "warning", "member": "Member",
        "no_trace": "(no explanation in this result: evaluate with --explain for the working)",
        "fold": "Click a value to unfold its working; printed, every value is unfolded.",
        "recompute": "How to check: each output's working shows the arithmetic with the values filled in; "
                     "the working below shows how each of those values was found.",
    },
    "zh": {
        "statement": "结果汇总", "working_section": "计算过程", "facts": "输入事实", "outputs": "输出",
        "output": "输出", "item": "指标", "value": "中间值", "scorecard": "得分表", "input": "事实",
        "item_col": "指标", "amount": "数额", "weight": "权重", "score": "得分", "total": "合计",
        "line": "明细",
        "notes": "说明", "policy": "办法", "version": "版本", "evaluation": "考核",
        "sha": "办法 sha256", "facts_sha": "事实 sha256", "engine": "引擎", "schema": "追溯格式",
        "as_of": "考核基准日", "version_in_force": "适用版本", "from": "自", "until": "至",
        "formula": "公式", "working": "计算", "reads": "取值", "cite": "依据", "note": "说明",
        "source": "出处", "exact": "精确值", "tags": "类别", "excluded": "不计入", "steps": "计算依据",
        "lines": "明细", "warning": "警告", "member": "成员",
        "no_trace": "(此结果不含追溯信息:使用 --explain 计算以显示计算过程)",
        "fold": "点击各项数值可展开其计算过程;打印时全部展开。",
        "recompute": "核对方法:每项输出的“计算”一栏列出代入数值后的算式;"
                     "下方计算过程说明每个数值的来历。",
    },
}

# Kinds of child node that are negative evidence or limits: shown in the statement as well.
_EVIDENCE = ("gate_excluded", "floor_applied", "cap_applied")


# ---- numbers and names for people ---------------------------------------------------------------

def fmt(value, display: str = "number", lang: str = "en", exact: str | None = None) -> str:
    """A value as people read it: ¥12,345.67, 85%, 20.5 分 / 20.5 points; text as written.

    `exact` is the fraction of a value with no finite decimal expansion (reasons.number).
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {fmt(v, 'number', lang)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v, "number", lang) for v in value) + "]"
    if not isinstance(value, str) or display in ("text", "record", "list", "boolean"):
        return str(value)
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    if not d.is_finite():
        return value
    if display == "money":
        exponent = d.as_tuple().exponent
        assert isinstance(exponent, int)  # d is finite
        if not exact and exponent > -2:  # ¥5,600.00: padding cents is exact, not a rounding
            return number(x.to_string(x.round_to(d, _CENT, "half even")), "money", lang)
        return number(value, "money", lang, exact)
    if display == "points":
        shown = number(value, "number", lang, exact)
        return f"{shown} 分" if lang == "zh" else f"{shown} points"
    return number(value, display, lang, exact)


_CENT = Decimal("0.01")


def title(entry: dict) -> str:
    """`label (name)`, or the name alone when the policy gave no label."""
    label = entry.get("label")
    return f"{label} ({entry['name']})" if label else entry["name"]


def where(span, column: bool = True) -> str:
    if not span:
        return ""
    return f"{span['file']}:{span['line']}" + (f":{span['column']}" if column else "")


def quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


# ---- the statement: shared with html.py --------------------------------------------------------

def statement(result: dict, lang: str = "en") -> dict:
    """The statement as plain data: heading, outputs (with their lines), scorecards, notes."""
    h = HEAD[lang]
    trace = result.get("trace")
    policy = dict(result["policy"])
    if trace:
        policy.update({k: v for k, v in trace["policy"].items() if k not in policy})
    evaluation = dict(trace["evaluation"]) if trace else {"name": result["evaluation"], "label": None}
    out = {
        "title": policy.get("label") or policy["name"],
        "policy": policy,
        "evaluation": evaluation,
        "meta": _meta(policy, evaluation, trace, result.get("stamp") or {}, h) + _dated(result, h),
        "outputs": [],
        "teams": [],
        "scorecards": [],
        "notes": [],
        "explained": trace is not None,
    }
    if trace is None:  # no trace: the values as they are, with nothing to say about them
        for name, value in result["values"].items():
            out["outputs"].append({"name": name, "title": name, "amount": fmt(value, "number", lang),
                                   "value": value, "display": "number", "working": None, "notes": [],
                                   "lines": None, "anchor": None})
        return out
    nodes = trace["nodes"]
    inputs = {n["name"]: n for n in trace["inputs"]}
    items: dict[str | None, list[dict]] = {}  # scorecard name -> its item nodes
    for node in nodes:
        if node["kind"] == "item":
            items.setdefault(node.get("scorecard"), []).append(node)
    teams: dict[str, dict] = {}
    for node in nodes:
        if node["kind"] == "output" and node.get("per"):
            _team_column(teams, node, inputs, lang)
        elif node["kind"] == "output":
            out["outputs"].append(_output_row(node, inputs, lang))
        elif node["kind"] == "scorecard":
            out["scorecards"].append({
                "name": node["name"], "title": title(node), "anchor": anchor(node),
                "amount": fmt(node["result"], node.get("display", "number"), lang, node.get("exact")),
                "value": node["result"], "display": node.get("display", "number"), "exact": node.get("exact"),
                "items": [_item_row(i, lang) for i in items.get(node["name"], ())],
                "notes": _evidence(node, lang),
            })
        elif node["kind"] == "value":
            notes = _evidence(node, lang)
            if notes:  # a floor or cap that bit on an intermediate value still shapes the amounts
                out["notes"].append({"title": title(node), "anchor": anchor(node), "notes": notes})
    out["teams"] = [_team_rows(t, lang) for t in teams.values()]
    return out


def _team_column(teams: dict, node: dict, inputs: dict, lang: str) -> None:
    """A per-member output (`for each`) as a column of its list's table of members."""
    lst = node["per"]
    team = teams.get(lst)
    if team is None:
        team = teams[lst] = {"list": lst, "title": title(inputs[lst]) if lst in inputs else lst,
                             "keys": list(node["result"]), "columns": []}
    display = node.get("display", "number")
    team["columns"].append({"name": node["name"], "title": title(node), "anchor": anchor(node), "display": display,
                            "values": node["result"]})


def _team_rows(team: dict, lang: str) -> dict:
    """The table of members: one row per member (in list order), one column per output; money
    columns end in their total (exact: the sum of the amounts shown)."""
    rows = [{"key": str(k), "cells": [fmt(c["values"][k], c["display"], lang) for c in team["columns"]]}
            for k in team["keys"]]
    totals = []
    for c in team["columns"]:
        if c["display"] == "money":
            total = sum((Decimal(v) for v in c["values"].values()), Decimal(0))
            totals.append(fmt(x.to_string(total), "money", lang))
        else:
            totals.append("")
    return {**team, "rows": rows, "totals": totals if any(totals) else None}


def _dated(result: dict, h) -> list:
    """The as-of date and the version of the evaluation that applied, when the result has them."""
    out = []
    if result.get("as_of"):
        out.append((h["as_of"], result["as_of"]))
    version = result.get("evaluation_version")
    if version:
        out.append((h["version_in_force"], f"{h['from']} {version['from']}"
                    + (f" {h['until']} {version['until']}" if version.get("until") else "")))
    return out


def _meta(policy, evaluation, trace, stamp, h) -> list:
    """What the statement is about, and what reproduces it (the result's stamp, when it has one)."""
    meta = [(h["policy"], policy["name"] + (f" ({h['version']} {policy['version']})" if policy.get("version") else "")),
            (h["evaluation"], title(evaluation))]
    if policy.get("sha256") or stamp.get("policy_sha256"):
        meta.append((h["sha"], policy.get("sha256") or stamp["policy_sha256"]))
    if stamp.get("facts_sha256"):
        meta.append((h["facts_sha"], stamp["facts_sha256"]))
    if stamp.get("engine"):
        meta.append((h["engine"], f"kpirules {stamp['engine']}"))
    schema = (trace or {}).get("schema") or stamp.get("trace_schema")
    if schema:
        meta.append((h["schema"], schema))
    return meta


def anchor(node: dict) -> str:
    """A stable, readable fragment id for a node of the trace."""
    return "v-" + re.sub(r"[^\w.-]+", "-", node.get("id") or node["name"]).strip("-")


def _output_row(node: dict, inputs: dict, lang: str) -> dict:
    display = node.get("display", "number")
    row = {
        "name": node["name"], "title": title(node), "anchor": anchor(node),
        "amount": fmt(node["result"], display, lang, node.get("exact")), "value": node["result"], "display": display,
        "exact": node.get("exact"), "working": node.get("working"), "notes": [], "lines": None,
        "reads": [f"{title(r)} = {fmt(r.get('value'), r.get('display', 'number'), lang, r.get('exact'))}"
                  for r in node.get("reads", ()) if not isinstance(r.get("value"), (list, dict))],
    }
    if display == "text" or _trivial(row["working"]):  # `"2026-05" = "2026-05"` tells nobody anything
        row["working"] = None
    lines = [c for c in node.get("children", ()) if c["kind"] in ("line", "filter_excluded")]
    if lines:
        row["lines"] = [_line_row(c, inputs, display, lang) for c in lines]
    for c in node.get("children", ()):
        if c["kind"] == "rounding":
            row["notes"].append(_located(sentence(c["reason"], lang, c.get("display", "number")), c, lang))
    row["notes"].extend(_evidence(node, lang))
    return row


def _trivial(working) -> bool:
    left, sep, right = (working or "").rpartition(" = ")
    return not sep or left.strip() == right.strip()


def _line_row(node: dict, inputs: dict, display: str, lang: str) -> dict:
    index = node["reason"]["params"].get("index")
    label = node.get("label")
    name = label or f"[{index}]"
    if node["kind"] == "filter_excluded":
        return {"title": name, "excluded": True, "amount": None, "value": None, "working": None,
                "notes": [_located(sentence(node["reason"], lang) + _line_evidence(node, inputs, lang), node, lang)]}
    # Where the line was rounded (and any limit on it); its table lookups are in the working.
    notes = [_located(sentence(c["reason"], lang, c.get("display", "number")), c, lang)
             for c in node.get("children", ()) if c["kind"] in ("rounding",) + _EVIDENCE]
    work = node.get("working")
    return {"title": name, "excluded": False, "amount": fmt(node["result"], display, lang, node.get("exact")),
            "value": node["result"], "working": None if _trivial(work) else work, "notes": notes}


def _line_evidence(node: dict, inputs: dict, lang: str) -> str:
    """The fields of an excluded line that its condition reads: the values that made it false."""
    m = re.fullmatch(r"(.+)\[(\d+)\]", node["name"])
    condition = node["reason"]["params"].get("condition") or ""
    if not m or m.group(1) not in inputs:
        return ""
    rows = inputs[m.group(1)].get("result")
    i = int(m.group(2))
    if not isinstance(rows, list) or i >= len(rows) or not isinstance(rows[i], dict):
        return ""
    shown = [f"{k} = {fmt(v, 'number', lang)}" for k, v in rows[i].items()
             if re.search(rf"(?<![\w.]){re.escape(k)}(?!\w)", condition)]
    return ("; " if lang == "en" else ";") + ", ".join(shown) if shown else ""


def _item_row(node: dict, lang: str) -> dict:
    return {
        "name": node["name"], "title": title(node), "anchor": anchor(node),
        "weight": node.get("weight"), "tags": node.get("tags") or [],
        "amount": fmt(node["result"], node.get("display", "number"), lang, node.get("exact")), "value": node["result"],
        "exact": node.get("exact"),
        "excluded": any(c["kind"] == "gate_excluded" for c in node.get("children", ())),
        "notes": _evidence(node, lang),
    }


def _evidence(node: dict, lang: str) -> list:
    """Sentences of what did not count and of limits that bit, each with its citation and source."""
    out = []
    for c in node.get("children", ()):
        if c["kind"] in _EVIDENCE:
            text = sentence(c["reason"], lang, c.get("display", "number")) + _gate_evidence(node, c, lang)
            for cite in c.get("cites", ()):
                text += f" {HEAD[lang]['cite']}: {quoted(cite)}"
            for note in c.get("notes", ()):  # the author's words: never in quotation marks
                text += f" {HEAD[lang]['note']}: {note}"
            out.append(_located(text, c, lang))
        for g in c.get("children", ()):  # floors and caps inside a function call
            if g["kind"] in _EVIDENCE:
                out.append(_located(sentence(g["reason"], lang, g.get("display", "number")), g, lang))
    return out


def _gate_evidence(node: dict, gate: dict, lang: str) -> str:
    """`rollout[item]` of an item's gate, looked up: `rollout[sales_tools] = false`."""
    if gate["kind"] != "gate_excluded":
        return ""
    m = re.fullmatch(r"(\w+)\[item\]", gate["reason"]["params"].get("condition") or "")
    if not m:
        return ""
    for r in node.get("reads", ()):
        if r["name"] == m.group(1) and isinstance(r.get("value"), dict) and node["name"] in r["value"]:
            v = fmt(r["value"][node["name"]], "boolean", lang)
            return ("; " if lang == "en" else ";") + f"{m.group(1)}[{node['name']}] = {v}"
    return ""


def _located(text: str, node: dict, lang: str) -> str:
    span = node.get("span")
    if not span:
        return text
    return text + (f" ({HEAD[lang]['source']} {where(span, False)})" if lang == "en"
                   else f"({HEAD[lang]['source']} {where(span, False)})")


# ---- the working: shared with html.py ----------------------------------------------------------

def working(result: dict, lang: str = "en") -> dict:
    """Facts and every value node as plain data for the working section."""
    h = HEAD[lang]
    trace = result["trace"]
    facts = []
    for node in trace["inputs"]:
        facts.append({"title": title(node), "name": node["name"], "display": node.get("display", "number"),
                      "value": node["result"],
                      "shown": fmt(node["result"], node.get("display", "number"), lang, node.get("exact")),
                      "table": _records(node["result"], lang), "source": where(node.get("span"), False),
                      "cites": node.get("cites") or [], "notes": node.get("notes") or []})
    values = []
    cards = {n["name"]: title(n) for n in trace["nodes"] if n["kind"] == "scorecard"}
    for node in trace["nodes"]:
        display = node.get("display", "number")
        meta = []  # (key, value) pairs
        if node["kind"] == "item":
            meta.append((h["scorecard"], cards.get(node.get("scorecard"), node.get("scorecard"))))
            meta.append((h["weight"], node.get("weight")))
            if node.get("tags"):
                meta.append((h["tags"], ", ".join(node["tags"])))
        steps = []
        if node["kind"] == "item":
            steps.append({"text": sentence(node["reason"], lang, "number"), "kind": "item", "cites": [],
                          "notes": [], "source": "", "children": [], "evidence": False})
        steps.extend(_step(c, node, lang) for c in node.get("children", ()))
        values.append({
            "title": title(node), "name": node["name"], "kind": node["kind"], "anchor": anchor(node),
            "kind_word": h.get(node["kind"], node["kind"]),
            "amount": fmt(node["result"], display, lang, node.get("exact")), "exact": node.get("exact"),
            "meta": meta, "formula": node.get("formula"), "working": node.get("working"),
            "steps": steps,
            "reads": [(title(r), fmt(r.get("value"), r.get("display", "number"), lang, r.get("exact")))
                      for r in node.get("reads", ())],
            "cites": node.get("cites") or [], "notes": node.get("notes") or [], "source": where(node.get("span")),
        })
    return {"facts": facts, "values": values, "warnings": result.get("warnings") or []}


def _step(node: dict, parent: dict, lang: str) -> dict:
    text = sentence(node["reason"], lang, node.get("display", "number"))
    if node["kind"] == "gate_excluded":
        text += _gate_evidence(parent, node, lang)
    return {"text": text, "kind": node["kind"], "cites": node.get("cites") or [], "notes": node.get("notes") or [],
            "source": where(node.get("span"), False),
            "evidence": node["kind"] in _EVIDENCE + ("filter_excluded",),
            "children": [_step(c, node, lang) for c in node.get("children", ())]}


def _records(value, lang):
    """A list of records as (columns, rows), for a table; None for anything else."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return None
    columns = []
    for row in value:
        for k in row:
            if k not in columns:
                columns.append(k)
    return columns, [[fmt(row.get(k), "number", lang) if k in row else "" for k in columns] for row in value]


# ---- Markdown ----------------------------------------------------------------------------------

# Characters that could start markup inline or end a table cell. `_` between two letters of a word
# cannot open or close emphasis (CommonMark's flanking rules), so `big_project_bonus` stays legible.
_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|~&]|(?<!\w)_|_(?!\w)")


# Every line break Markdown or a viewer may honour (CR, LF, CRLF, VT, FF, the file/group/record
# separators, NEL, U+2028, U+2029), with the spaces around it: folded into one space, so that a
# fact's text can never start a line of its own (a forged heading, rule, quote or list).
_LINE_BREAK = re.compile("\\s*[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]\\s*")
# Other controls and invisible characters (ESC, C1, bidi overrides): shown as `<U+001B>`.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
                        "\ud800-\udfff]")
# What would start a block if the text began a line (a heading, a list item, a setext underline):
# the text never does, but a renderer that put it first must not make it markup.
_BLOCK_START = re.compile(r"^(?:#{1,6}|[-+*]|[0-9]{1,9}[.)])(?=[ \t]|$)|^(?:=+|-+)[ \t]*$")


def md(text) -> str:
    """Policy or fact text escaped for Markdown (inline, and safe in a table cell): line breaks
    folded, controls made visible, markup characters escaped, a block marker at its start too."""
    text = _LINE_BREAK.sub(" ", str(text))
    text = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text).lstrip(" \t")
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    m = _BLOCK_START.match(text)
    if m:
        # `1.` is escaped at its dot (`1\.`); any other marker at its first character.
        text = (text[:m.end() - 1] + "\\" + text[m.end() - 1:]) if text[:1].isdigit() else "\\" + text
    return text


def render(result: dict, explain: bool = False, lang: str = "en") -> str:
    h = HEAD[lang]
    st = statement(result, lang)
    out = [f"# {md(st['title'])}", ""]
    for key, value in st["meta"]:
        out.append(f"- {md(key)}: {md(value)}")
    out += ["", f"## {h['statement']}", ""]
    out += _md_statement(st, lang)
    if explain and result.get("trace"):
        out += _md_working(working(result, lang), lang)
    elif not st["explained"]:
        out += ["", md(h["no_trace"])]
    for w in result.get("warnings") or ():
        out += ["", f"> {h['warning']}[{md(w['code'])}]: `{md(w['path'])}`: {md(w['message'])}"]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_statement(st: dict, lang: str) -> list:
    h = HEAD[lang]
    out = [f"| {h['outputs']} | {h['amount']} |", "|:---|---:|"] if st["outputs"] else []
    for row in st["outputs"]:
        out.append(f"| **{md(row['title'])}** | **{md(row['amount'])}** |")
    for row in st["outputs"]:
        detail = []
        if row.get("lines"):
            detail += ["", f"**{md(row['title'])}**", "",
                       f"| {h['line']} | {h['working']} | {h['amount']} |", "|:---|:---|---:|"]
            for line in row["lines"]:
                if line["excluded"]:
                    detail.append(f"| {md(line['title'])} | {md('; '.join(line['notes']))} | - |")
                else:
                    detail.append(f"| {md(line['title'])} | {md(line['working'] or '')} | {md(line['amount'])} |")
            detail.append(f"| **{h['total']}** | {md(row['working'] or '')} | **{md(row['amount'])}** |")
            notes = [n for line in row["lines"] if not line["excluded"] for n in line["notes"]]
            detail += [""] + [f"- {md(line['title'])}: {md(n)}" for line in row["lines"] if not line["excluded"]
                              for n in line["notes"]] if notes else []
        elif row.get("working"):
            # The working ends in the exact value (a fraction when it has no end): nothing to add.
            detail += ["", f"**{md(row['title'])}** = {md(row['working'])}"]
            if row.get("reads"):
                detail += ["", f"{h['reads']}: " + "; ".join(md(r) for r in row["reads"])]
        if row["notes"]:
            detail += [""] + [f"- {md(n)}" for n in row["notes"]]
        out += detail
    for team in st["teams"]:
        out += ["", f"### {md(team['title'])}", "",
                f"| {h['member']} | " + " | ".join(md(c["title"]) for c in team["columns"]) + " |",
                "|:---|" + "---:|" * len(team["columns"])]
        for r in team["rows"]:
            out.append(f"| {md(r['key'])} | " + " | ".join(md(c) for c in r["cells"]) + " |")
        if team["totals"]:
            out.append(f"| **{h['total']}** | " + " | ".join(f"**{md(t)}**" if t else "" for t in team["totals"])
                       + " |")
    for sc in st["scorecards"]:
        out += ["", f"### {md(sc['title'])}", "",
                f"| {h['item_col']} | {h['weight']} | {h['score']} |", "|:---|---:|---:|"]
        for item in sc["items"]:
            mark = f" — {h['excluded']}" if item["excluded"] else ""
            out.append(f"| {md(item['title'])}{mark} | {md(item['weight'] or '')} | "
                       f"{md(item['amount'])}{_exact(item)} |")
        out.append(f"| **{h['total']}** | | **{md(sc['amount'])}**{_exact(sc)} |")
        notes = [(i["title"], n) for i in sc["items"] for n in i["notes"]] + [(sc["title"], n) for n in sc["notes"]]
        if notes:
            out += [""] + [f"- {md(t)}: {md(n)}" for t, n in notes]
    if st["notes"]:
        out += ["", f"### {h['notes']}", ""]
        out += [f"- {md(v['title'])}: {md(n)}" for v in st["notes"] for n in v["notes"]]
    return out


def _exact(row) -> str:
    return f" ({md(row['exact'])})" if row.get("exact") else ""


def _md_working(wk: dict, lang: str) -> list:
    h = HEAD[lang]
    out = ["", f"## {h['working_section']}", "", f"_{md(h['recompute'])}_", "", f"### {h['facts']}", ""]
    tables = []
    for f in wk["facts"]:
        if f["table"]:
            out.append(f"- {md(f['title'])}: ({len(f['table'][1])} {h['lines']}, {h['source']} {md(f['source'])})")
            tables.append(f)
        else:
            out.append(f"- {md(f['title'])} = {md(f['shown'])}")
        for c in f["cites"]:
            out.append(f"  - {h['cite']}: {md(quoted(c))}")
        for c in f["notes"]:
            out.append(f"  - {h['note']}: {md(c)}")
    for f in tables:
        columns, rows = f["table"]
        out += ["", f"**{md(f['title'])}**", "", "| # | " + " | ".join(md(c) for c in columns) + " |",
                "|---:|" + "|".join(":---" for _ in columns) + "|"]
        out += [f"| {i} | " + " | ".join(md(c) for c in row) + " |" for i, row in enumerate(rows)]
    for v in wk["values"]:
        head = f"### {md(v['title'])} = {md(v['amount'])}"
        if v["exact"]:
            head += f" ({h['exact']} {md(v['exact'])})"
        out += ["", head + f" \\[{md(v['kind_word'])}\\]", ""]
        for key, value in v["meta"]:
            out.append(f"- {md(key)}: {md(value)}")
        if v["formula"]:
            out.append(f"- {h['formula']}: {md(v['formula'])}")
        if v["working"]:
            out.append(f"- {h['working']}: {md(v['working'])}")
        if v["steps"]:
            out.append(f"- {h['steps']}:")
            for s in v["steps"]:
                out += _md_step(s, lang, 1)
        if v["reads"]:
            out.append(f"- {h['reads']}: " + "; ".join(f"{md(t)} = {md(a)}" for t, a in v["reads"]))
        for c in v["cites"]:
            out.append(f"- {h['cite']}: {md(quoted(c))}")
        for c in v["notes"]:
            out.append(f"- {h['note']}: {md(c)}")
        out.append(f"- {h['source']}: {md(v['source'])}")
    return out


def _md_step(step: dict, lang: str, depth: int) -> list:
    pad = "  " * depth
    text = md(step["text"])
    if step["evidence"]:
        text = f"**{text}**"
    if step["source"]:
        text += f" ({md(step['source'])})" if lang == "en" else f"({md(step['source'])})"
    out = [f"{pad}- {text}"]
    for c in step["cites"]:
        out.append(f"{pad}  - {HEAD[lang]['cite']}: {md(quoted(c))}")
    for c in step["notes"]:
        out.append(f"{pad}  - {HEAD[lang]['note']}: {md(c)}")
    for c in step["children"]:
        out += _md_step(c, lang, depth + 1)
    return out
