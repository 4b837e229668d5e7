"""HTML renderer: one self-contained, printable statement file (no network, no scripts, no assets).

Reads only the JSON form of a result (Result.to_json()), like render/text.py; the statement's
structure is shared with render/markdown.py. The STATEMENT comes first (each output with its
amount, the lines of a rounded sum adding up to the total shown, each scorecard's items, and
what did not count), then the WORKING: the facts, then every value folded in a <details>
(formula, working, what shaped it as sentences, reads, citations, source). Printed on A4 every
fold is open. All policy text is escaped; a Content-Security-Policy forbids any load.
"""

from __future__ import annotations

from html import escape

from .markdown import HEAD, quoted, statement, working

_LANG_TAG = {"en": "en", "zh": "zh-CN"}

_CSS = """
:root { --ink: #1a1a1a; --muted: #5f6368; --rule: #c9ccd1; --soft: #f3f4f6; --bad: #a4262c; --accent: #0b57d0; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 190mm; padding: 12mm 10mm 16mm; color: var(--ink); background: #fff;
  font: 14px/1.55 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB",
  "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans", "Segoe UI", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 20px 0 8px; }
.subtitle { margin: 0 0 10px; font-size: 15px; color: var(--muted); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 12px;
  color: var(--muted); }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 14px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--rule); }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--ink); }
td.num, th.num { text-align: right; white-space: nowrap; }
.amount { font-weight: 600; }
tr.head th, tr.head td { font-size: 15px; border-bottom: none; padding-top: 9px; }
tr.head .amount { font-size: 16px; }
tr.line td:first-child { padding-left: 22px; }
tr.line .amount { font-weight: 500; }
tr.total td { border-top: 1.5px solid var(--ink); font-weight: 600; }
tr.excluded td { color: var(--bad); }
tr.excluded .amount { font-weight: 400; }
.calc, code { font-family: "Noto Sans Mono CJK SC", ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12px; overflow-wrap: anywhere; }
.calc { display: block; color: var(--muted); margin-top: 2px; }
.exact { display: block; font-size: 11px; font-weight: 400; color: var(--muted); }
.reads { display: block; color: var(--muted); font-size: 12.5px; margin-top: 2px; }
ul.notes { margin: 4px 0 2px; padding-left: 18px; font-size: 12.5px; }
ul.notes li { margin: 2px 0; }
.evidence { color: var(--bad); }
.src { color: var(--muted); font-size: 11.5px; white-space: nowrap; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border: 1px solid var(--rule); border-radius: 8px;
  color: var(--muted); font-weight: 400; vertical-align: 1px; }
.tag.bad { color: var(--bad); border-color: var(--bad); }
a { color: inherit; text-decoration: none; }
a:hover { text-decoration: underline; }
blockquote { margin: 4px 0; padding: 2px 10px; border-left: 3px solid var(--rule); color: #333; }
p.note { margin: 4px 0; padding: 0 10px; color: var(--muted); font-size: 12.5px; }
p.hint { font-size: 12.5px; color: var(--muted); }
details { border: 1px solid var(--rule); border-radius: 4px; margin: 6px 0; }
details > summary { cursor: pointer; padding: 6px 10px; background: var(--soft); list-style-position: inside; }
details[open] > summary { border-bottom: 1px solid var(--rule); }
details > .body { padding: 6px 12px 8px; }
summary .amount { margin-left: 4px; }
summary .tag { margin-left: 8px; }
dl.fields { display: grid; grid-template-columns: 8.5em 1fr; gap: 3px 12px; margin: 4px 0; }
dl.fields dt { color: var(--muted); font-size: 12.5px; }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
ol.steps, ol.steps ol { margin: 2px 0; padding-left: 20px; }
ol.steps li { margin: 2px 0; }
table.facts td:first-child { width: 45%; }
table.records { font-size: 12.5px; }
footer { margin-top: 24px; font-size: 11px; color: var(--muted); }
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  section.working { break-before: page; }
  tr, li, blockquote, dl.fields { break-inside: avoid; }
  thead { display: table-header-group; }
  details { border: none; border-top: 1px solid var(--rule); border-radius: 0; margin: 0; break-inside: auto; }
  details > summary { background: none; list-style: none; padding: 6px 0 2px; font-weight: 600; break-after: avoid; }
  details > summary::-webkit-details-marker { display: none; }
  details::details-content { content-visibility: visible; display: block; }
  details > .body { padding: 0 0 6px; }
  .calc, code { font-size: 8.5pt; }
  a { text-decoration: none; }
}
"""


def render(result: dict, explain: bool = False, lang: str = "en") -> str:
    h = HEAD[lang]
    st = statement(result, lang)
    title = st["title"] + " · " + (st["evaluation"].get("label") or st["evaluation"]["name"])
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_LANG_TAG[lang]}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="generator" content="kpirules">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="doc">',
        f"<h1>{_e(st['title'])}</h1>",
        f'<p class="subtitle">{_e(_evaluation_title(st["evaluation"]))}</p>',
        '<dl class="meta">',
    ]
    for key, value in st["meta"]:
        out.append(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>")
    out += ["</dl>", "</header>", ""]
    explained = bool(explain and result.get("trace"))
    out += _statement(st, lang, links=explained)  # a value links to its working, when it is there
    if explained:
        out += _working(working(result, lang), lang)
    elif not st["explained"]:
        out.append(f'<p class="hint">{_e(h["no_trace"])}</p>')
    warnings = result.get("warnings") or ()
    if warnings:
        out.append('<ul class="notes">')
        out += [f'<li class="evidence">{_e(h["warning"])}[{_e(w["code"])}]: <code>{_e(w["path"])}</code>: '
                f'{_e(w["message"])}</li>' for w in warnings]
        out.append("</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _e(text) -> str:
    return escape("" if text is None else str(text), quote=True)


def _evaluation_title(ev: dict) -> str:
    return f"{ev['label']} ({ev['name']})" if ev.get("label") else ev["name"]


def _link(text: str, anchor) -> str:
    return f'<a href="#{_e(anchor)}">{_e(text)}</a>' if anchor else _e(text)


def _notes(notes, cls="notes") -> str:
    if not notes:
        return ""
    return f'<ul class="{cls}">' + "".join(f'<li class="evidence">{_e(n)}</li>' for n in notes) + "</ul>"


def _plain_notes(notes) -> str:
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


def _exact(row, h) -> str:
    return f'<span class="exact">{_e(h["exact"])} {_e(row["exact"])}</span>' if row.get("exact") else ""


def _statement(st: dict, lang: str, links: bool) -> list:
    h = HEAD[lang]

    def link(text, anchor):
        return _link(text, anchor if links else None)

    out = ['<section class="statement" id="statement">', f"<h2>{_e(h['statement'])}</h2>"]
    if st["outputs"]:
        out += ['<table class="outputs">',
                f'<thead><tr><th>{_e(h["outputs"])}</th><th class="num">{_e(h["amount"])}</th></tr></thead>']
        for row in st["outputs"]:
            out.append(f'<tbody class="output" id="s-{_e(row["name"])}">')
            out.append(f'<tr class="head"><th scope="row">{link(row["title"], row.get("anchor"))}</th>'
                       f'<td class="num amount">{_e(row["amount"])}</td></tr>')
            if row.get("lines"):
                for line in row["lines"]:
                    if line["excluded"]:
                        out.append(f'<tr class="line excluded"><td>{_e(line["title"])} '
                                   f'<span class="tag bad">{_e(h["excluded"])}</span>{_notes(line["notes"])}</td>'
                                   f'<td class="num amount">—</td></tr>')
                    else:
                        calc = f'<span class="calc">{_e(line["working"])}</span>' if line.get("working") else ""
                        out.append(f'<tr class="line"><td>{_e(line["title"])}{calc}{_plain_notes(line["notes"])}</td>'
                                   f'<td class="num amount">{_e(line["amount"])}</td></tr>')
                calc = f'<span class="calc">{_e(row["working"])}</span>' if row.get("working") else ""
                out.append(f'<tr class="total"><td>{_e(h["total"])}{calc}{_plain_notes(row["notes"])}</td>'
                           f'<td class="num amount">{_e(row["amount"])}</td></tr>')
            elif row.get("working") or row.get("reads") or row["notes"]:
                calc = ""
                if row.get("working"):  # it ends in the exact value, a fraction when it has no end
                    calc = f'<span class="calc">{_e(row["working"])}</span>'
                if row.get("reads"):
                    calc += (f'<span class="reads">{_e(h["reads"])}: ' + "; ".join(_e(r) for r in row["reads"])
                             + "</span>")
                out.append(f'<tr class="detail"><td colspan="2">{calc}{_plain_notes(row["notes"])}</td></tr>')
            out.append("</tbody>")
        out.append("</table>")
    for team in st["teams"]:
        out += [f"<h3>{_e(team['title'])}</h3>", f'<table class="team" id="s-{_e(team["list"])}">',
                f'<thead><tr><th>{_e(h["member"])}</th>'
                + "".join(f'<th class="num">{link(c["title"], c.get("anchor"))}</th>' for c in team["columns"])
                + "</tr></thead>", "<tbody>"]
        for r in team["rows"]:
            out.append(f'<tr class="member"><td>{_e(r["key"])}</td>'
                       + "".join(f'<td class="num amount">{_e(c)}</td>' for c in r["cells"]) + "</tr>")
        if team["totals"]:
            out.append(f'<tr class="total"><td>{_e(h["total"])}</td>'
                       + "".join(f'<td class="num amount">{_e(t)}</td>' for t in team["totals"]) + "</tr>")
        out += ["</tbody>", "</table>"]
    for sc in st["scorecards"]:
        out += [f"<h3>{link(sc['title'], sc.get('anchor'))}</h3>",
                f'<table class="scorecard" id="s-{_e(sc["name"])}">',
                f'<thead><tr><th>{_e(h["item_col"])}</th><th class="num">{_e(h["weight"])}</th>'
                f'<th class="num">{_e(h["score"])}</th></tr></thead>', "<tbody>"]
        for item in sc["items"]:
            cls = "item excluded" if item["excluded"] else "item"
            tag = f' <span class="tag bad">{_e(h["excluded"])}</span>' if item["excluded"] else ""
            out.append(f'<tr class="{cls}"><td>{link(item["title"], item.get("anchor"))}{tag}'
                       f'{_notes(item["notes"])}</td>'
                       f'<td class="num">{_e(item["weight"] or "")}</td>'
                       f'<td class="num amount">{_e(item["amount"])}{_exact(item, h)}</td></tr>')
        out.append(f'<tr class="total"><td>{_e(h["total"])}{_notes(sc["notes"])}</td><td class="num"></td>'
                   f'<td class="num amount">{_e(sc["amount"])}{_exact(sc, h)}</td></tr>')
        out += ["</tbody>", "</table>"]
    if st["notes"]:
        out += [f"<h3>{_e(h['notes'])}</h3>", '<ul class="notes">']
        out += [f'<li class="evidence">{link(v["title"], v.get("anchor"))}: {_e(n)}</li>'
                for v in st["notes"] for n in v["notes"]]
        out.append("</ul>")
    out += ["</section>", ""]
    return out


def _working(wk: dict, lang: str) -> list:
    h = HEAD[lang]
    out = ['<section class="working" id="working">', f"<h2>{_e(h['working_section'])}</h2>",
           f'<p class="hint">{_e(h["recompute"])} {_e(h["fold"])}</p>',
           f"<h3>{_e(h['facts'])}</h3>", '<table class="facts"><tbody>']
    tables = []
    for f in wk["facts"]:
        cites = "".join(f"<blockquote>{_e(quoted(c))}</blockquote>" for c in f["cites"]) + _authors_notes(f["notes"], h)
        if f["table"]:
            tables.append(f)
            value = f'<a href="#f-{_e(f["name"])}">{len(f["table"][1])} {_e(h["lines"])}</a>'
        else:
            value = _e(f["shown"])
        out.append(f"<tr><td>{_e(f['title'])}{cites}</td><td>{value}</td></tr>")
    out.append("</tbody></table>")
    for f in tables:
        columns, rows = f["table"]
        out += [f'<table class="records" id="f-{_e(f["name"])}">',
                f"<caption>{_e(f['title'])}</caption>",
                "<thead><tr><th class=\"num\">#</th>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr></thead>",
                "<tbody>"]
        out += [f'<tr><td class="num">{i}</td>' + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                for i, row in enumerate(rows)]
        out += ["</tbody>", "</table>"]
    for v in wk["values"]:
        exact = f' <span class="src">({_e(h["exact"])} {_e(v["exact"])})</span>' if v["exact"] else ""
        out += [f'<details class="value kind-{_e(v["kind"])}" id="{_e(v["anchor"])}">',
                f'<summary><span class="name">{_e(v["title"])}</span> = <span class="amount">{_e(v["amount"])}</span>'
                f'{exact}<span class="tag">{_e(v["kind_word"])}</span></summary>',
                '<div class="body">', '<dl class="fields">']
        for key, value in v["meta"]:
            out.append(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>")
        if v["formula"]:
            out.append(f"<dt>{_e(h['formula'])}</dt><dd><code>{_e(v['formula'])}</code></dd>")
        if v["working"]:
            out.append(f"<dt>{_e(h['working'])}</dt><dd><code>{_e(v['working'])}</code></dd>")
        if v["steps"]:
            out.append(f"<dt>{_e(h['steps'])}</dt><dd>{_steps(v['steps'], lang)}</dd>")
        if v["reads"]:
            out.append(f"<dt>{_e(h['reads'])}</dt><dd>"
                       + "<br>".join(f"{_e(t)} = {_e(a)}" for t, a in v["reads"]) + "</dd>")
        for c in v["cites"]:
            out.append(f"<dt>{_e(h['cite'])}</dt><dd><blockquote>{_e(quoted(c))}</blockquote></dd>")
        for c in v["notes"]:  # the author's words: never in quotation marks
            out.append(f'<dt>{_e(h["note"])}</dt><dd class="note">{_e(c)}</dd>')
        out.append(f"<dt>{_e(h['source'])}</dt><dd><code>{_e(v['source'])}</code></dd>")
        out += ["</dl>", "</div>", "</details>"]
    out += ["</section>", ""]
    return out


def _authors_notes(notes, h) -> str:
    """The author's own words (`note`): labelled as a note, never quoted like the source's words."""
    return "".join(f'<p class="note">{_e(h["note"])}: {_e(c)}</p>' for c in notes)


def _steps(steps, lang) -> str:
    parts = ['<ol class="steps">']
    for s in steps:
        cls = ' class="evidence"' if s["evidence"] else ""
        src = f' <span class="src">{_e(s["source"])}</span>' if s["source"] else ""
        cites = "".join(f"<blockquote>{_e(quoted(c))}</blockquote>" for c in s["cites"])
        cites += _authors_notes(s["notes"], HEAD[lang])
        children = _steps(s["children"], lang) if s["children"] else ""
        parts.append(f"<li{cls}>{_e(s['text'])}{src}{cites}{children}</li>")
    parts.append("</ol>")
    return "".join(parts)
