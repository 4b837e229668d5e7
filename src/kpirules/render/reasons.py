"""Reason sentences: every reason code of the trace, in Chinese and English, and number formats.

Renderers turn a node's `reason` ({code, params, display}) into a sentence with `sentence()`.
docs/reasons.md lists the same templates; a test fails when a code lacks a language.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .. import exact as x

LANGUAGES = ("en", "zh")

# code -> {language: template}. Parameters are formatted for people before substitution.
TEMPLATES = {
    "input.given": {
        "en": "given: {value} (declared as `{rule}`)",
        "zh": "给定:{value}(声明为 `{rule}`)",
    },
    "value.formula": {
        "en": "computed as {working}",
        "zh": "计算:{working}",
    },
    "output.formula": {
        "en": "computed as {working}",
        "zh": "计算:{working}",
    },
    "item.start": {
        "en": "starts at its weight, {weight}",
        "zh": "以权重 {weight} 为起始分",
    },
    "scorecard.sum": {
        "en": "the sum of its {items} items: {working}",
        "zh": "{items} 项得分之和:{working}",
    },
    "minus.applied": {
        "en": "{clause}: {before} - {total} = {after}",
        "zh": "{clause}:{before} - {total} = {after}",
    },
    "minus.per": {
        "en": "{clause}: {amount} × {count} = {total}; {before} - {total} = {after}",
        "zh": "{clause}:{amount} × {count} = {total};{before} - {total} = {after}",
    },
    "minus.skipped": {
        "en": "not applied, its condition is false: {clause}",
        "zh": "未扣分(条件不成立):{clause}",
    },
    "plus.applied": {
        "en": "{clause}: {before} + {total} = {after}",
        "zh": "{clause}:{before} + {total} = {after}",
    },
    "plus.per": {
        "en": "{clause}: {amount} × {count} = {total}; {before} + {total} = {after}",
        "zh": "{clause}:{amount} × {count} = {total};{before} + {total} = {after}",
    },
    "plus.skipped": {
        "en": "not applied, its condition is false: {clause}",
        "zh": "未加分(条件不成立):{clause}",
    },
    "score.set": {
        "en": "{clause}: the score becomes {after} (it was {before})",
        "zh": "{clause}:得分改为 {after}(原为 {before})",
    },
    "score.skipped": {
        "en": "not applied, its condition is false: {clause}",
        "zh": "未适用(条件不成立):{clause}",
    },
    "ladder.below": {
        "en": "rate {rate_formula} = {rate}{rate_exact}, {gap} below the standard {standard}; "
              "{gap} ÷ {step} = {steps} {rule} step(s); {sign} {points} × {steps} = {delta}: {before} → {after}",
        "zh": "比率 {rate_formula} = {rate}{rate_exact},低于标准 {standard} {gap};"
              "{gap} ÷ {step} 计 {steps} 档({rule});{sign} {points} × {steps} = {delta}:{before} → {after}",
    },
    "ladder.above": {
        "en": "rate {rate_formula} = {rate}{rate_exact}, {gap} above the standard {standard}; "
              "{gap} ÷ {step} = {steps} {rule} step(s); {sign} {points} × {steps} = {delta}: {before} → {after}",
        "zh": "比率 {rate_formula} = {rate}{rate_exact},高于标准 {standard} {gap};"
              "{gap} ÷ {step} 计 {steps} 档({rule});{sign} {points} × {steps} = {delta}:{before} → {after}",
    },
    "ladder.at": {
        "en": "rate {rate_formula} = {rate}{rate_exact} is exactly the standard {standard}: no step, {after}",
        "zh": "比率 {rate_formula} = {rate}{rate_exact},恰为标准 {standard}:不加不减,{after}",
    },
    "ladder.no_rate": {
        "en": "rate {rate_formula} has no value (a division by zero); the policy takes {rate} instead: "
              "no step, {after}",
        "zh": "比率 {rate_formula} 无法计算(除数为零),按规定取 {rate}:不加不减,{after}",
    },
    "ladder.no_line": {
        "en": "rate {rate_formula} = {rate}{rate_exact} is {direction} the standard {standard}, and the "
              "ladder has no step for that side: {after}",
        "zh": "比率 {rate_formula} = {rate}{rate_exact} {direction}标准 {standard},该方向没有档位:{after}",
    },
    "floor.applied": {
        "en": "{before} is below the floor {floor}: raised to {after}",
        "zh": "{before} 低于下限 {floor}:取 {after}",
    },
    "cap.applied": {
        "en": "{before} is above the cap {cap}: lowered to {after}",
        "zh": "{before} 高于上限 {cap}:取 {after}",
    },
    "round.applied": {
        "en": "rounded {mode} to {quantum}: {before} → {after}",
        "zh": "按{mode}保留到 {quantum}:{before} → {after}",
    },
    "gate.passed": {
        "en": "counts: {filled} is true ({tag} items count only if {condition})",
        "zh": "计入:{filled} 成立({tag} 类指标须满足 {condition} 才计入)",
    },
    "gate.excluded": {
        "en": "EXCLUDED: {reason} ({filled} is false); its {before} does not count, the item counts 0",
        "zh": "不计入:{reason}({filled} 不成立);本项 {before} 不计入,计 0",
    },
    "filter.excluded": {
        "en": "[{index}]{id}: EXCLUDED: {reason} ({filled} is false)",
        "zh": "[{index}]{id}:不计入:{reason}({filled} 不成立)",
    },
    "line.included": {
        "en": "[{index}]{id}: {working} = {value}",
        "zh": "[{index}]{id}:{working} = {value}",
    },
    "band.chosen": {
        "en": "{value} falls in the band “{band}” ({range}) of {bands}",
        "zh": "{value} 落在 {bands} 的“{band}”档({range})",
    },
    "table.lookup": {
        "en": "table {table}[{key}] = {value}",
        "zh": "查表 {table}[{key}] = {value}",
    },
    "table.version": {
        "en": "table {table} on {key}: the version in force from {from}{until} gives {value}",
        "zh": "查表 {table}(日期 {key}):适用自 {from} 起生效的版本{until},{value}",
    },
    "value.per_member": {
        "en": "one value for each of the {count} members of {list}: {formula}",
        "zh": "{list} 的 {count} 位成员各计一值:{formula}",
    },
    "output.per_member": {
        "en": "one value for each of the {count} members of {list}: {formula}",
        "zh": "{list} 的 {count} 位成员各计一值:{formula}",
    },
    "member.value": {
        "en": "[{key}]: {working}",
        "zh": "[{key}]:{working}",
    },
    "allocation.total": {
        "en": "{amount} split over {count} members by {weight_formula} (total weight {total_weight}), paid in "
              "units of {quantum}: {leftover} leftover unit(s) to the largest remainders (equal remainders: "
              "the member listed {ties}); unallocated {unallocated}",
        "zh": "{amount} 按 {weight_formula} 分给 {count} 位成员(权重合计 {total_weight}),以 {quantum} 为单位发放:"
              "余下 {leftover} 个单位依次给余数最大者(余数相同者,名单中{ties}者优先);未分配 {unallocated}",
    },
    "allocation.share": {
        "en": "exact share {amount} × {weight} ÷ {total_weight} = {share}; cut down to units of {quantum}: {cut} "
              "(remainder {remainder}){leftover_text}; paid {paid}",
        "zh": "精确份额 {amount} × {weight} ÷ {total_weight} = {share};按 {quantum} 为单位截取:{cut}"
              "(余数 {remainder}){leftover_text};实发 {paid}",
    },
    "rank.placed": {
        "en": "{value} places {place} of {count} ({order} first{tied_text})",
        "zh": "{value} 排第 {place} 名,共 {count} 人({order}在前{tied_text})",
    },
    "percentile.placed": {
        "en": "{lower} of the other {others} members have a value lower than {value}: percentile {place}",
        "zh": "其余 {others} 位成员中有 {lower} 位低于 {value}:百分位 {place}",
    },
    "function.called": {
        "en": "{function}({args}): {formula} = {working}",
        "zh": "{function}({args}):{formula} = {working}",
    },
}

_WORDS = {
    "en": {"full": "full", "started": "started", "prorated": "prorated", "minus": "minus", "plus": "plus",
           "below": "below", "above": "above", "half up": "half up", "half even": "half even (banker's)",
           "half down": "half down", "up": "away from zero", "down": "toward zero", "ceiling": "up (ceiling)",
           "floor": "down (floor)", "points": "points", "from": "from", "to": "to", "over": "above",
           "under": "below", "exactly": "exactly", "highest": "highest", "lowest": "lowest",
           "first": "first", "last": "last"},
    "zh": {"full": "满档", "started": "起算档", "prorated": "按比例", "minus": "扣", "plus": "加",
           "below": "低于", "above": "高于", "half up": "四舍五入", "half even": "四舍六入五成双",
           "half down": "五舍六入", "up": "远离零进位", "down": "向零截断", "ceiling": "向上取整",
           "floor": "向下取整", "points": "分", "from": "不低于", "to": "不高于", "over": "高于",
           "highest": "高者", "lowest": "低者", "first": "靠前", "last": "靠后",
           "under": "低于", "exactly": "精确值"},
}


def word(key: str, lang: str) -> str:
    return _WORDS[lang].get(key, key)


def number(text, display: str = "number", lang: str = "en", exact: str | None = None) -> str:
    """A decimal string for people: ¥12,345.67, 85%, 20.5 分 / 20.5 points; else as given.

    The one rule of showing a number: an exact value is shown in full, whatever its length; a
    value with no finite decimal expansion (`exact` holds its fraction, e.g. "2/3") is shown with
    a few digits and `≈`, its fraction beside it where the sentence has room for it.
    """
    if text is None:
        return "-"
    if isinstance(text, bool):
        return "true" if text else "false"
    if not isinstance(text, str):
        return str(text)
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    if not d.is_finite():
        return text
    if exact:
        return "≈" + _approximately(d, display, lang)
    if display == "percent":
        return x.to_string(x.canonical(x.mul(d, _HUNDRED))) + "%"
    if display == "money":
        return _money(format(d, "f"))
    if display == "points":
        return f"{text} 分" if lang == "zh" else f"{text} points"
    return text


_HUNDRED = Decimal(100)


def _money(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    if frac and len(frac) < 2:  # a sum of cents shown as ¥39,731.20, not ¥39,731.2
        frac = frac.ljust(2, "0")
    return f"{sign}¥{int(whole):,}" + (f".{frac}" if frac else "")


def _approximately(d: Decimal, display: str, lang: str) -> str:
    """The first digits of an endless value, in its unit."""
    if display == "percent":
        return format(x.round_to(x.mul(d, _HUNDRED), Decimal("0.01"), "half even"), "f") + "%"
    if display == "money":
        return _money(format(x.round_to(d, Decimal("0.01"), "half even"), "f"))
    shown = format(x.round_to(d, Decimal("0.000001"), "half even"), "f")
    if display == "points":
        return f"{shown} 分" if lang == "zh" else f"{shown} points"
    return shown


def sentence(reason: dict, lang: str = "en", display: str = "number") -> str:
    """The reason as a sentence. `display` is how the node's own value reads (money, points...)."""
    code = reason["code"]
    template = TEMPLATES[code][lang]
    params = dict(reason.get("params") or {})
    shows = reason.get("display") or {}
    out = {}
    # Amounts in a sentence take the value's unit (¥ for money); points stay plain numbers there.
    own = "number" if display == "points" else display
    exact = reason.get("exact") or {}
    for key, value in params.items():
        out[key] = _param(key, value, shows.get(key, own if key in _VALUE_PARAMS else "number"), lang,
                          exact.get(key))
    out.setdefault("rate_exact", "")
    if not params.get("filled"):
        out["filled"] = params.get("condition", "")
    if params.get("rate_exact"):
        out["rate_exact"] = f" ({word('exactly', lang)} {params['rate_exact']})"
    if code == "band.chosen":
        lo = ("" if params.get("low") is None else
              f"{word('from' if params.get('low_included') else 'over', lang)} {params['low']}")
        hi = ("" if params.get("high") is None else
              f"{word('to' if params.get('high_included') else 'under', lang)} {params['high']}")
        out["range"] = " ".join(p for p in (lo, hi) if p)
    if code in ("filter.excluded", "line.included"):
        out["id"] = f" ({params['id']})" if params.get("id") else ""
        if code == "filter.excluded" and not params.get("reason"):
            out["reason"] = params.get("condition")
    if code == "gate.excluded" and not params.get("reason"):
        out["reason"] = params.get("condition")
    if code in _MORE_HOOKS:  # issue 10: tiers and assertions
        _MORE_HOOKS[code](params, out, lang)
    if code == "table.version":
        until = params.get("until")
        out["until"] = (f" until {until}" if lang == "en" else f"(至 {until})") if until else ""
    if code == "allocation.share":
        out["leftover_text"] = ((f"; received one leftover {out['quantum']}" if lang == "en"
                                 else f";获得一个余下的 {out['quantum']}") if params.get("leftover") else "")
    if code == "rank.placed":
        tied = int(Decimal(str(params.get("tied") or 1)))  # a Decimal, or its JSON decimal string
        out["tied_text"] = ((f"; {tied} members share this value" if lang == "en" else f";{tied} 人并列")
                            if tied > 1 else "")
    if code == "function.called":
        out["args"] = ", ".join(f"{k} = {v}" for k, v in (params.get("args") or {}).items())
    for key in _KEYWORDS:
        if key in params:
            out[key] = word(str(params[key]), lang)
    return template.format_map(_Missing(out))


# Parameters that are the node's own value (shown with the node's unit, e.g. money or points).
_VALUE_PARAMS = {"before", "after", "total", "amount", "value", "floor", "cap", "delta", "weight", "result"}
# Parameters that are words of the language (translated, not formatted as numbers).
_KEYWORDS = {"rule", "sign", "mode", "direction", "order", "ties"}


def _param(key, value, display, lang, exact=None):
    if key in _KEYWORDS or key in ("clause", "formula", "working", "rate_formula", "condition", "reason", "filled",
                                   "tag", "bands", "band", "table", "function", "id", "rule", "list",
                                   "weight_formula"):
        return value if value is not None else ""
    if isinstance(value, (dict, list)):
        return value
    if key in ("index", "items", "quantum", "key"):
        return "" if value is None else str(value)
    if key in ("leftover", "lower", "others", "tied"):
        return str(value)
    if key in ("count", "steps", "place") and display == "number":
        return "" if value is None else number(value, "number", lang, exact)
    return number(value, display, lang, exact)


class _Missing(dict):
    def __missing__(self, key):
        return "{" + key + "}"


# ---- tiers and assertions (issue 10) ------------------------------------------------------------

TEMPLATES.update({
    "assert.held": {
        "en": "holds: {filled}",
        "zh": "断言成立:{filled}",
    },
    "tiers.applied": {
        "en": "{tiers} applied {mode} to {value}{of}: {result} (the value falls in {reached})",
        "zh": "{tiers}({mode})作用于 {value}{of}:{result}(落在 {reached})",
    },
    "tier.marginal": {
        "en": "{tier}{label}, {range} (declared {declared}): {part} × {rate} = {amount}",
        "zh": "{tier}{label},{range}(声明为 {declared}):{part} × {rate} = {amount}",
    },
    "tier.retroactive": {
        "en": "{tier}{label}, {range} (declared {declared}): {part} × {rate} = {amount}",
        "zh": "{tier}{label},{range}(声明为 {declared}):{part} × {rate} = {amount}",
    },
})
_WORDS["en"].update({"marginal": "marginally (each part at its own tier's rate)",
                     "retroactive": "retroactively (the whole value at the rate of the tier it reaches)"})
_WORDS["zh"].update({"marginal": "超额累进", "retroactive": "全额累进"})


def _tiers_hook(params, out, lang):
    base = params.get("base")
    if base is None:
        out["of"] = ""
    else:
        out["of"] = (f", its ranges percentages of {out['base']}" if lang == "en"
                     else f",区间为 {out['base']} 的百分比")


def _tier_hook(params, out, lang):
    out["label"] = f" “{params['label']}”" if params.get("label") else ""
    lo = f"{word('from' if params.get('low_included') else 'over', lang)} {out['low']}"
    hi = f"{word('to' if params.get('high_included') else 'under', lang)} {out['high']}"
    out["range"] = f"{lo} {hi}"


_MORE_HOOKS = {"tiers.applied": _tiers_hook, "tier.marginal": _tier_hook, "tier.retroactive": _tier_hook}
