"""Plain-text renderer: the values of a result and, when asked, the working an auditor follows.

Reads only the JSON form of a result (Result.to_json()): values, and the `kpirules.trace/1`
document. Labels are the policy's own; sentences come from render/reasons.py in zh or en.
"""

from __future__ import annotations

import re

from .reasons import number, sentence

# What a terminal would act on or hide, from any text a result holds (a fact's text reaches the
# statement as it was given): C0 and C1 controls (ESC and CSI start escape sequences; CR and LF
# would start forged lines), bidi overrides and isolates, zero-width and line/paragraph
# separators, lone surrogates. Each is shown as `<U+001B>`, as diagnostics show them.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                        "\ud800-\udfff]")


def visible(line: str) -> str:
    """One line of output with every control or invisible character shown as `<U+XXXX>`."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", line)


def visible_lines(lines) -> str:
    """Lines joined, each made visible (no final line break)."""
    return "\n".join(visible(line) for line in lines)


def _join(lines) -> str:
    # Each element is one line by construction: a line break inside one came from the result.
    return "\n".join(visible(line) for line in lines) + "\n"

_HEAD = {
    "en": {"policy": "policy", "version": "version", "evaluation": "evaluation", "facts": "Facts",
           "formula": "formula", "working": "working", "reads": "reads", "cite": "cite", "note": "note",
           "source": "source", "exact": "exactly", "output": "OUTPUT", "value": "value", "item": "item",
           "scorecard": "scorecard", "of": "of", "weight": "weight", "values": "Values", "sha": "policy sha256",
           "as_of": "as of", "in_force": "version in force from", "until": "until"},
    "zh": {"policy": "办法", "version": "版本", "evaluation": "考核", "facts": "输入事实",
           "formula": "公式", "working": "计算", "reads": "取值", "cite": "依据", "note": "说明",
           "source": "出处", "exact": "精确值", "output": "输出", "value": "中间值", "item": "指标",
           "scorecard": "得分表", "of": "属于", "weight": "权重", "values": "结果", "sha": "办法 sha256",
           "as_of": "基准日", "in_force": "适用版本 自", "until": "至"},
}


def render(result: dict, explain: bool = False, lang: str = "en") -> str:
    h = _HEAD[lang]
    policy = result["policy"]
    version = f" {h['version']} {policy['version']}" if policy.get("version") else ""
    dated = ""
    if result.get("as_of"):
        dated += f", {h['as_of']} {result['as_of']}"
    if result.get("evaluation_version"):
        v = result["evaluation_version"]
        dated += f" ({h['in_force']} {v['from']}" + (f" {h['until']} {v['until']}" if v.get("until") else "") + ")"
    lines = [f"{h['policy']} {policy['name']}" + version
             + f", {h['evaluation']} {result['evaluation']}" + dated]
    trace = result.get("trace")
    if trace is None or not explain:
        width = max((len(k) for k in result["values"]), default=0)
        for name, value in result["values"].items():
            lines.append(f"  {name.ljust(width)}  {_plain(value)}")
        _warnings(result, lines)
        return _join(lines)
    lines.append(f"{h['sha']} {policy['sha256']}")
    lines.append("")
    lines.append(h["facts"])
    for node in trace["inputs"]:
        lines.append(f"  {_name(node)} = {_value(node['result'], node.get('display', 'number'), lang)}")
        for c in node.get("cites", ()):
            lines.append(f"      {h['cite']}: \u201c{c}\u201d")
        for c in node.get("notes", ()):  # the author's words: never in quotation marks
            lines.append(f"      {h['note']}: {c}")
    for node in trace["nodes"]:
        lines.append("")
        lines.extend(render_node(node, lang))
    _warnings(result, lines)
    return _join(lines)


def render_node(node: dict, lang: str = "en") -> list:
    """The lines of one value node: heading, formula, working, what shaped it, sources."""
    h = _HEAD[lang]
    display = node.get("display", "number")
    head = f"{_name(node)} = {_value(node['result'], display, lang, node.get('exact'))}"
    if node.get("exact"):
        head += f"  ({h['exact']} {node['exact']})"
    if node["kind"] == "item":
        tags = "".join(f", {t}" for t in node.get("tags", ()))
        head += f"  [{h['item']} {h['of']} {node['scorecard']}, {h['weight']} {node['weight']}{tags}]"
    else:
        head += f"  [{h.get(node['kind'], node['kind'])}]"
    out = [head]
    if node.get("formula"):
        out.append(f"    {h['formula']}:  {node['formula']}")
    if node.get("working"):
        out.append(f"    {h['working']}:  {node['working']}")
    if node["kind"] == "item":
        out.append("    - " + sentence(node["reason"], lang, "number"))
    for child in node.get("children", ()):
        out.extend(_child(child, lang, 1))
    if node.get("reads"):
        parts = [f"{_name(r)} = {_short(r['value'], r.get('display', 'number'), lang, r.get('exact'))}"
                 for r in node["reads"]]
        out.append(f"    {h['reads']}:  " + "; ".join(parts))
    for c in node.get("cites", ()):
        out.append(f"    {h['cite']}:  \u201c{c}\u201d")
    for c in node.get("notes", ()):
        out.append(f"    {h['note']}:  {c}")
    out.append(f"    {h['source']}:  {_where(node['span'])}")
    return out


def _child(node: dict, lang: str, depth: int) -> list:
    pad = "    " * depth
    lines = [f"{pad}- " + sentence(node["reason"], lang, node.get("display", "number"))]
    for c in node.get("cites", ()):
        lines.append(f"{pad}  {_HEAD[lang]['cite']}: \u201c{c}\u201d")
    for c in node.get("notes", ()):
        lines.append(f"{pad}  {_HEAD[lang]['note']}: {c}")
    for child in node.get("children", ()):
        lines.extend(_child(child, lang, depth + 1))
    return lines


def _short(v, display, lang, exact=None) -> str:
    """A value read by a formula; a long list is already shown in full under the facts."""
    if isinstance(v, list) and len(v) > 3:
        return f"[{len(v)} {'项' if lang == 'zh' else 'entries'}]"
    return _value(v, display, lang, exact)


def _value(v, display, lang, exact=None) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(i, 'number', lang)}" for k, i in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(i, "number", lang) for i in v) + "]"
    if isinstance(v, str) and display not in ("text", "record", "list", "boolean"):
        return number(v, display, lang, exact)
    return _plain(v)


def _plain(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _name(entry) -> str:
    label = entry.get("label")
    return f"{label} ({entry['name']})" if label else entry["name"]


def _where(span) -> str:
    return f"{span['file']}:{span['line']}:{span['column']}" if span else ""


def _warnings(result, lines):
    for w in result.get("warnings", ()):
        lines.append(f"warning[{w['code']}]: `{w['path']}`: {w['message']}")
