"""Plain-text renderer: the values of a result and, when asked, the working an auditor follows.

Reads only the JSON form of a result (Result.to_json()), in the policy's own labels.
"""

from __future__ import annotations

from decimal import Decimal

_ROUND_WORDS = {"half up": "half up", "half even": "half even (banker's)", "half down": "half down",
                "up": "away from zero", "down": "toward zero", "ceiling": "up (ceiling)",
                "floor": "down (floor)"}


def _num(text, display="number") -> str:
    """A decimal string for people: thousands separators for money, percent for percentages."""
    if text is None:
        return "-"
    if isinstance(text, bool):
        return "true" if text else "false"
    if not isinstance(text, str):
        return str(text)
    try:
        d = Decimal(text)
    except Exception:
        return text
    if display == "percent":
        pct = d * 100
        if pct == pct.to_integral_value():
            return format(pct.quantize(Decimal(1)), "f") + "%"
        pct = pct.normalize()
        if -pct.as_tuple().exponent > 4:  # an endless rate: the exact fraction is shown beside it
            return "≈" + format(pct.quantize(Decimal("0.01")), "f") + "%"
        return format(pct, "f") + "%"
    if display == "money":
        sign = "-" if d < 0 else ""
        whole, _, frac = format(abs(d), "f").partition(".")
        whole = f"{int(whole):,}"
        return f"{sign}¥{whole}" + (f".{frac}" if frac else "")
    return text


def _name(entry) -> str:
    label = entry.get("label")
    return f"{label} ({entry['name']})" if label else entry["name"]


def _where(span) -> str:
    return f"{span['file']}:{span['line']}:{span['column']}" if span else ""


def render(result: dict, explain: bool = False) -> str:
    policy = result["policy"]
    lines = [f"policy {policy['name']}" + (f" version {policy['version']}" if policy.get("version") else "")
             + f", evaluation {result['evaluation']}"]
    trace = result.get("trace")
    if trace is None or not explain:
        width = max((len(k) for k in result["values"]), default=0)
        for name, value in result["values"].items():
            lines.append(f"  {name.ljust(width)}  {_plain(value)}")
        _warnings(result, lines)
        return "\n".join(lines) + "\n"
    lines.append(f"policy sha256 {policy['sha256']}")
    lines.append("")
    lines.append("Facts")
    for name, value in trace["facts"].items():
        lines.append(f"  {name} = {_fact(value)}")
    for node in trace["nodes"]:
        lines.append("")
        lines.extend(_node(node))
    _warnings(result, lines)
    return "\n".join(lines) + "\n"


def _plain(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fact(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_fact(v) for v in value) + "]"
    return _plain(value)


def _warnings(result, lines):
    for w in result.get("warnings", ()):
        lines.append(f"warning[{w['code']}]: `{w['path']}`: {w['message']}")


def _node(node) -> list:
    display = node.get("display", "number")
    kind = {"value": "value", "output": "OUTPUT", "item": "item", "scorecard": "scorecard"}[node["kind"]]
    head = f"{_name(node)} = {_num(node['result'], display)}"
    if node.get("fraction"):
        head += f"  (exactly {node['fraction']})"
    if node["kind"] == "item":
        head += f"  [{kind} of {node['scorecard']}, weight {node['weight']}" + (
            ", " + ", ".join(node["tags"]) if node["tags"] else "") + "]"
    else:
        head += f"  [{kind}]"
    out = [head]
    if node.get("formula"):
        out.append(f"    formula:  {node['formula']}")
    if node.get("substituted") and node["substituted"] != node.get("formula"):
        working = node["substituted"]
        if node.get("computed") is not None and node["kind"] != "scorecard":
            working += f" = {node['computed']}"
        out.append(f"    working:  {working}")
    for lk in node.get("lookups", ()):
        if "bands" in lk:
            out.append(f"    band:     {lk['text']} = {lk['bands']}[{lk['key']}] = {lk['value']} ({lk['band']})")
            continue
        out.append(f"    lookup:   {lk['text']} = {lk['table']}[{lk['key']}] = "
                   f"{_num(lk['value'], lk.get('display', 'number'))}")
    for call in node.get("calls", ()):
        args = ", ".join(f"{k} = {v}" for k, v in call["args"].items())
        label = f"{call['label']} " if call.get("label") else ""
        out.append(f"    call:     {label}{call['function']}({args})")
        out.append(f"              {call['formula']}")
        out.append(f"              = {call['substituted']} = {call['computed']}")
        for ev in call.get("events") or ():
            out.extend("              " + s for s in _event(ev, "number"))
        for c in call.get("cites", ()):
            out.append(f"              cite: \u201c{c}\u201d")
    if node["kind"] == "item":
        out.append(f"    start:    weight {node['weight']}")
    for line in node.get("lines", ()):
        out.append("    " + _line(line))
    if node.get("lines") is not None:
        kept = [ln["value"] for ln in node["lines"] if ln["included"]]
        out.append(f"    {node['aggregate']}:" + " " * (9 - len(node["aggregate"]))
                   + (" + ".join(kept) if kept else "no line counts") + f" = {node.get('computed', node['result'])}")
    for ev in node.get("events", ()):
        out.extend("    " + s for s in _event(ev, display))
    if node["kind"] == "item" or node.get("lines") is not None:
        out.append(f"    result:   {_num(node['result'], display)}")
    if node.get("inputs"):
        parts = [f"{_name(i)} = {_num(i['value'], i.get('display', 'number')) if not isinstance(i['value'], (dict, list)) else _fact(i['value'])}"
                 for i in node["inputs"]]
        out.append("    inputs:   " + "; ".join(parts))
    for c in node.get("cites", ()):
        out.append(f"    cite:     \u201c{c}\u201d")
    out.append(f"    source:   {_where(node['span'])}")
    return out


def _line(line) -> str:
    ident = line["line"].get("id") if isinstance(line["line"], dict) else None
    who = f"line {line['index']}" + (f" ({ident})" if ident is not None else "")
    if not line["included"]:
        reason = line.get("reason") or f"`{line['condition']}` is false"
        return f"{who}: excluded: {reason}  [only if {line['condition']}]"
    text = f"{who}: {line.get('substituted', '')} = "
    rnd = line.get("round")
    if rnd:
        text += f"{rnd['before']} -> round {_ROUND_WORDS[rnd['mode']]} to {rnd['quantum']} = {rnd['after']}"
    else:
        text += f"{line['value']}"
    return text


def _event(ev, display) -> list:
    k = ev["kind"]
    if k == "floor":
        return [f"floor:    {ev['before']} is below the floor {ev['bound']} -> {ev['after']}"]
    if k == "cap":
        return [f"cap:      {ev['before']} is above the cap {ev['bound']} -> {ev['after']}"]
    if k == "round":
        return [f"round:    {ev['before']} -> round {_ROUND_WORDS[ev['mode']]} to {ev['quantum']} = {ev['after']}"]
    if k == "adjust":
        if not ev["applied"]:
            return [f"not applied: {ev['text']}  (condition is false)"]
        how = f"{ev['amount']} × {ev['per']} = {ev['delta']}" if ev.get("per") is not None else f"{ev['delta']}"
        op = "-" if ev["sign"] == "minus" else "+"
        return [f"{ev['sign']}:    {ev['text']}: {how}; {ev['before']} {op} {ev['delta']} = {ev['after']}"]
    if k == "override":
        if not ev["applied"]:
            return [f"not applied: {ev['text']}  (condition is false)"]
        return [f"score:    {ev['text']}: {ev['before']} -> {ev['after']}"]
    if k == "ladder":
        rate = _num(ev["rate"], "percent")
        std = _num(ev["standard"], "percent")
        exact = f" (exactly {ev['rate_fraction']})" if ev.get("rate_fraction") else ""
        first = f"ladder:   rate {ev['rate_text']} = {rate}{exact}"
        if ev.get("undefined"):
            first = f"ladder:   rate {ev['rate_text']} has no value (division by zero); `if none` gives {rate}"
        first += f"; standard {std}"
        if ev["direction"] == "at":
            return [first, f"          on the standard: no steps; {ev['before']} stays {ev['after']}"]
        if ev.get("gap") is None:
            return [first, f"          {ev['direction']} the standard, no step line for that side; stays {ev['after']}"]
        gap = _num(ev["gap"], "percent")
        step = _num(ev["step"], "percent")
        rule = {"full": "full steps", "started": "started steps", "prorated": "prorated"}[ev["rule"]]
        op = "-" if ev["sign"] == "minus" else "+"
        return [first,
                f"          {gap} {ev['direction']} the standard; {gap} ÷ {step} -> {ev['steps']} ({rule})",
                f"          {ev['sign']} {ev['points']} × {ev['steps']} = {ev['delta']}; "
                f"{ev['before']} {op} {ev['delta']} = {ev['after']}"]
    if k == "gate":
        if ev["passed"]:
            return [f"gate:     {ev['tag']} items count only if {ev['condition']}: true, counted"]
        reason = ev.get("reason") or f"`{ev['condition']}` is false"
        out = [f"gate:     EXCLUDED: {reason}  ({ev['condition']} is false); "
               f"{ev['before']} does not count -> 0"]
        for c in ev.get("cites", ()):
            out.append(f"          cite: \u201c{c}\u201d")
        return out
    return [f"{k}: {ev}"]
