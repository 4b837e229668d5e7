# ruff: noqa: E501  (policy texts are written as they are, long lines and all)
"""Write the kpirules conformance corpus: tests/conformance/policies/ and tests/conformance/cases/.

    python tests/conformance/make_cases.py

Every expected value and error below is written by hand, as a literal, with its arithmetic in a
comment: nothing here runs kpirules. An error's position is written as a piece of the policy's text
(a *marker*): the expected line and column are where that text starts, counted here in the policy
text (lines and columns from 1, a column counting characters). README.md describes the format.

The files are written afresh on each run (the folders are emptied first); tests/test_conformance.py
checks that the committed files are what this script writes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = "kpirules.conformance/1"

POLICIES: dict[str, str] = {}   # shared policy name -> text (policies/NAME.rules)
CASES: list[dict] = []          # in written order


# ---- helpers ---------------------------------------------------------------------------------

def evaluation(body: str, header: str = "policy t", name: str = "e") -> str:
    """A policy of one evaluation: `body` is its lines, written without their 4-space indent."""
    lines = [header, "", f"evaluation {name}:"]
    lines += ["    " + line if line else "" for line in body.strip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def shared(name: str, text: str) -> str:
    assert name not in POLICIES
    POLICIES[name] = text
    return name


class At:
    """Where a diagnostic points: the `nth` occurrence of `marker` in the text of `file`."""

    def __init__(self, marker: str | None, nth: int = 1, file: str | None = None, offset: int = 0):
        self.marker, self.nth, self.file, self.offset = marker, nth, file, offset


def _locate(text: str, at: At) -> tuple[int, int]:
    start = -1
    for _ in range(at.nth):
        start = text.index(at.marker, start + 1)
    start += at.offset
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def case(name: str, *, construct: str, policy: str, facts=None, raw_facts: str | bytes | None = None,
         values: dict | None = None, policy_errors: list | None = None, policy_warnings: list | None = None,
         fact_errors: list | None = None, fact_warnings: list | None = None, evaluation_error: At | None = None,
         evaluation_name: str | None = None, as_of: str | None = None, files: dict | None = None,
         source: str | None = None, cite_errors: list | None = None, policy_bytes: bytes | None = None,
         policy_padding: tuple[str, int] | None = None, policy_path: str | None = None,
         description: str = "") -> None:
    """One case. `policy` is a shared policy's name or a policy's text (written as policy.rules)."""
    CASES.append({k: v for k, v in locals().items()})


def pe(code: str, marker: str | None = None, nth: int = 1, file: str | None = None) -> tuple:
    return (code, At(marker, nth, file) if marker is not None else None)


# ============================================================================================
# Value cases and fact errors on shared policies
# ============================================================================================

# ---- a first policy (docs/language.md "A first policy") --------------------------------------
shared("sales_bonus", '''\
policy sales_bonus "销售奖金办法" version "2026.1"

# Regional coefficient (地区系数), looked up by the employee's region.
table region_factor "地区系数" (region) -> percent:
    north -> 100%
    south -> 90%

evaluation monthly "月度奖金":
    fact region "地区": one of north, south
    fact revenue "本月回款": money >= 0
    fact target "本月目标": money > 0

    let completion "完成率" = revenue / target
        cap 150%
    output bonus "奖金" = revenue * 2% * completion * region_factor[region]
        round half up to 0.01
        cite "奖金=回款×2%×完成率×地区系数,完成率最高按150%计"
''')
SB = "sales_bonus"
# 120000/100000 = 1.2; 120000 × 0.02 × 1.2 × 0.9 = 2592 -> 2592.00
case("v-first-policy-south", construct="a first policy", policy=SB,
     facts={"region": "south", "revenue": "120000", "target": "100000"},
     values={"completion": "1.2", "bonus": "2592.00"})
# 200000/100000 = 2, capped at 1.5; 200000 × 0.02 × 1.5 × 1 = 6000 -> 6000.00
case("v-cap-binds", construct="clauses: cap", policy=SB,
     facts={"region": "north", "revenue": 200000, "target": 100000},
     values={"completion": "1.5", "bonus": "6000.00"})
# 0/100000 = 0; bonus 0 rounded to 0.01 keeps its quantum: 0.00
case("v-zero-revenue", construct="clauses: round", policy=SB,
     facts={"region": "north", "revenue": 0, "target": "100000"},
     values={"completion": "0", "bonus": "0.00"})
# 33333/100000 = 0.33333; 33333 × 0.02 = 666.66; × 0.33333 = 222.2177778; × 0.9 = 199.99600002 -> 200.00
case("v-round-half-up-carries", construct="clauses: round", policy=SB,
     facts={"region": "south", "revenue": "33333", "target": "100000"},
     values={"completion": "0.33333", "bonus": "200.00"})
# 150000/100000 = 1.5 exactly at the cap; 150000 × 0.02 × 1.5 × 0.9 = 4050 -> 4050.00
case("v-cap-exactly-reached", construct="clauses: cap", policy=SB,
     facts={"region": "south", "revenue": "150000.00", "target": "100000.00"},
     values={"completion": "1.5", "bonus": "4050.00"})
# a money fact given as a JSON number with decimals: 1234.56/2000 = 0.61728;
# 1234.56 × 0.02 = 24.6912; × 0.61728 = 15.24138... (24.6912 × 0.61728 = 15.241383936); × 1 -> 15.24
case("v-json-decimal-number", construct="facts: money", policy=SB,
     raw_facts='{"region": "north", "revenue": 1234.56, "target": 2000}',
     values={"completion": "0.61728", "bonus": "15.24"})
case("f-F106-not-one-of", construct="facts: one of", policy=SB,
     facts={"region": "east", "revenue": "1", "target": "1"}, fact_errors=[("F106", "region")])
case("f-F106-case-matters", construct="facts: one of", policy=SB,
     facts={"region": "North", "revenue": "1", "target": "1"}, fact_errors=[("F106", "region")])
case("f-F101-number-for-one-of", construct="facts: one of", policy=SB,
     facts={"region": 1, "revenue": "1", "target": "1"}, fact_errors=[("F101", "region")])
case("f-F110-negative-money", construct="facts: constraints", policy=SB,
     facts={"region": "north", "revenue": "-0.01", "target": "1"}, fact_errors=[("F110", "revenue")])
case("f-F110-target-zero", construct="facts: constraints", policy=SB,
     facts={"region": "north", "revenue": "1", "target": 0}, fact_errors=[("F110", "target")])
case("f-F107-missing-fact", construct="facts", policy=SB,
     facts={"region": "north", "revenue": "1"}, fact_errors=[("F107", "target")])
case("f-F107-every-fact-missing", construct="facts", policy=SB,
     facts={}, fact_errors=[("F107", "region"), ("F107", "revenue"), ("F107", "target")])
case("f-F103-thousands-separator", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": "120,000", "target": "1"}, fact_errors=[("F103", "revenue")])
case("f-F103-exponent-text", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": "1e5", "target": "1"}, fact_errors=[("F103", "revenue")])
case("f-F103-currency-sign", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": "¥100", "target": "1"}, fact_errors=[("F103", "revenue")])
case("f-F101-boolean-for-money", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": True, "target": "1"}, fact_errors=[("F101", "revenue")])
case("f-F101-null-for-money", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": None, "target": "1"}, fact_errors=[("F101", "revenue")])
case("f-F101-list-for-money", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": [1], "target": "1"}, fact_errors=[("F101", "revenue")])
case("f-F102-nan", construct="facts: money", policy=SB,
     raw_facts='{"region": "north", "revenue": NaN, "target": 1}', fact_errors=[("F102", "revenue")])
case("f-F102-infinity", construct="facts: money", policy=SB,
     raw_facts='{"region": "north", "revenue": 1, "target": Infinity}', fact_errors=[("F102", "target")])
case("f-F104-too-many-digits", construct="facts: money", policy=SB,
     facts={"region": "north", "revenue": "1" * 46, "target": "1"}, fact_errors=[("F104", "revenue")])
case("f-F104-exponent-too-large", construct="facts: money", policy=SB,
     raw_facts='{"region": "north", "revenue": 1e41, "target": 1}', fact_errors=[("F104", "revenue")])
case("f-F104-too-small", construct="facts: money", policy=SB,
     raw_facts='{"region": "north", "revenue": 1e-41, "target": 1}', fact_errors=[("F104", "revenue")])
# a JSON number written with an exponent inside the range is exact: 1.2e5 = 120000 (as v-first-policy-south)
case("v-json-exponent-number", construct="facts: money", policy=SB,
     raw_facts='{"region": "south", "revenue": 1.2e5, "target": 1e5}',
     values={"completion": "1.2", "bonus": "2592.00"})
case("f-F109-duplicate-key", construct="facts", policy=SB,
     raw_facts='{"region": "north", "revenue": 1, "revenue": 2, "target": 1}', fact_errors=[("F109", "revenue")])
case("f-F001-not-json", construct="facts", policy=SB,
     raw_facts='{"region": "north", "revenue": 1,}', fact_errors=[("F001", "$")])
case("f-F001-empty", construct="facts", policy=SB, raw_facts="", fact_errors=[("F001", "$")])
case("f-F001-truncated", construct="facts", policy=SB, raw_facts='{"region": "north"', fact_errors=[("F001", "$")])
case("f-F101-top-level-list", construct="facts", policy=SB, raw_facts='[{"region": "north"}]',
     fact_errors=[("F101", "$")])
case("f-F101-top-level-number", construct="facts", policy=SB, raw_facts='42', fact_errors=[("F101", "$")])
case("f-F002-missing-file", construct="facts", policy=SB, raw_facts=None, fact_errors=[("F002", "$")],
     description="the case has no facts.json: the fact file does not exist")
case("f-F002-not-utf8", construct="facts", policy=SB,
     raw_facts='{"region": "north", "revenue": 1, "target": 1, "备注": "x"}'.encode("gbk"),
     fact_errors=[("F002", "$")])
# an unknown fact is a warning; the values are computed: 100000/100000 = 1; 100000 × 0.02 × 1 × 1 = 2000.00
case("v-F200-unknown-fact", construct="facts", policy=SB,
     facts={"region": "north", "revenue": "100000", "target": "100000", "regoin": "south"},
     values={"completion": "1", "bonus": "2000.00"}, fact_warnings=[("F200", "regoin")])
# a byte-order mark before the JSON is allowed: as v-F200 without the unknown fact
case("v-facts-with-bom", construct="facts", policy=SB,
     raw_facts='\ufeff{"region": "north", "revenue": "100000", "target": "100000"}'.encode("utf-8"),
     values={"bonus": "2000.00"})

# ---- ladders (docs/language.md "Ladders": the table of worked numbers, and more) -------------
shared("ladders", '''\
policy ladder_rules

evaluation e:
    fact won: count
    fact supported: count
    scorecard s:
        item by_full weight 20:
            ladder won / supported standard 85%, if none: standard
                minus 2 per full 5% below
                plus 0.5 per full 1% above
        item by_started weight 20:
            ladder won / supported standard 85%, if none: standard
                minus 2 per started 5% below
                plus 0.5 per started 1% above
        item by_prorated weight 20:
            ladder won / supported standard 85%, if none: standard
                minus 2 per prorated 5% below
                plus 0.5 per prorated 1% above
        item no_data_is_zero weight 20:
            ladder won / supported standard 85%, if none: 0%
                minus 2 per full 5% below
''')
LAD = "ladders"


def ladder(name, won, supported, full, started, prorated, zero, note=""):
    case(f"v-ladder-{name}", construct="ladders", policy=LAD, facts={"won": won, "supported": supported},
         values={"by_full": full, "by_started": started, "by_prorated": prorated, "no_data_is_zero": zero},
         description=note)


# 7/9: gap 85% - 7/9 = 153/180 - 140/180 = 13/180; ÷ 5% = 13/9 = 1.444 steps
# full 1 -> 18; started 2 -> 16; prorated 20 - 2 × 13/9 = 154/9 = 17.111… (28 significant digits)
ladder("7-of-9", 7, 9, "18", "16", "17.11111111111111111111111111", "18")
# 0/0: no rate; `if none: standard` takes no step; `if none: 0%`: 85% below = 17 full steps, 20 - 34 = -14
ladder("no-data", 0, 0, "20", "20", "20", "-14")
# 33/40 = 82.5%: gap 2.5% = 0.5 step: full 0 -> 20; started 1 -> 18; prorated 0.5 -> 19
ladder("half-step-below", 33, 40, "20", "18", "19", "20")
# 16/20 = 80%: exactly one step under every rule -> 18
ladder("exactly-one-step", 16, 20, "18", "18", "18", "18")
# 7999/10000 = 79.99%: gap 5.01% = 1.002 steps: full 1 -> 18; started 2 -> 16; prorated 20 - 2.004 = 17.996
ladder("just-past-a-step", 7999, 10000, "18", "16", "17.996", "18")
# 171/200 = 85.5%: 0.5% above = 0.5 of a 1% step: full 0 -> 20; started 1 -> 20.5; prorated 20.25;
# the last item has no `above` line -> 20
ladder("half-step-above", 171, 200, "20", "20.5", "20.25", "20")
# 17/20 = 85% exactly on the standard: no step
ladder("on-the-standard", 17, 20, "20", "20", "20", "20")
# 20/20 = 100%: 15% above = 15 steps × 0.5 = 7.5 -> 27.5
ladder("all-won", 20, 20, "27.5", "27.5", "27.5", "20")
# 3/4 = 75%: 10% below = 2 steps under every rule: 20 - 4 = 16
ladder("two-steps-below", 3, 4, "16", "16", "16", "16")
# 9/10 = 90%: 5% above = 5 steps × 0.5 = 2.5 -> 22.5
ladder("five-steps-above", 9, 10, "22.5", "22.5", "22.5", "20")
# 0/5 = 0%: 85% below = 17 steps × 2 = 34 -> -14 (no floor)
ladder("none-won", 0, 5, "-14", "-14", "-14", "-14")
# 1/3: gap 0.85 - 1/3 = 31/60; ÷ 0.05 = 31/3 = 10.333 steps: full 10 -> 0; started 11 -> -2;
# prorated 20 - 62/3 = -2/3 -> -0.6666666666666666666666666667
ladder("one-of-three", 1, 3, "0", "-2", "-0.6666666666666666666666666667", "0")
# 173/200 = 86.5%: 1.5% above: full 1 -> 20.5; started 2 -> 21; prorated 1.5 -> 20.75
ladder("one-and-a-half-above", 173, 200, "20.5", "21", "20.75", "20")
# 161/200 = 80.5%: 4.5% below = 0.9 step: full 0 -> 20; started 1 -> 18; prorated 20 - 1.8 = 18.2
ladder("nine-tenths-below", 161, 200, "20", "18", "18.2", "20")
# counts may be given as decimal strings: "7" and "9" as 7/9
case("v-ladder-counts-as-text", construct="facts: count", policy=LAD, facts={"won": "7", "supported": "9"},
     values={"by_full": "18", "by_started": "16"})
# a whole number written 7.0 is a count
case("v-ladder-count-with-zero-decimals", construct="facts: count", policy=LAD,
     raw_facts='{"won": 7.0, "supported": 9}', values={"by_full": "18"})
# the scorecard adds its items: 7/9 -> 18 + 16 + 154/9 + 18 = 52 + 154/9 = 622/9 = 69.111…
case("v-scorecard-sum-of-ladders", construct="scorecards", policy=LAD, facts={"won": 7, "supported": 9},
     values={"s": "69.11111111111111111111111111"})
case("f-F110-negative-count", construct="facts: count", policy=LAD, facts={"won": -1, "supported": 9},
     fact_errors=[("F110", "won")])
case("f-F105-fractional-count", construct="facts: count", policy=LAD, facts={"won": "2.5", "supported": 9},
     fact_errors=[("F105", "won")])
case("f-F105-fractional-json-number", construct="facts: count", policy=LAD, raw_facts='{"won": 7, "supported": 9.5}',
     fact_errors=[("F105", "supported")])
case("f-F101-text-word-for-count", construct="facts: count", policy=LAD, facts={"won": True, "supported": 9},
     fact_errors=[("F101", "won")])
case("f-F103-word-for-count", construct="facts: count", policy=LAD, facts={"won": "seven", "supported": 9},
     fact_errors=[("F103", "won")])
case("f-two-violations-at-once", construct="facts", policy=LAD, facts={"won": -1, "supported": "x"},
     fact_errors=[("F110", "won"), ("F103", "supported")])

# ---- rounding modes (docs/language.md "Rounding modes") ---------------------------------------
shared("rounding", '''\
policy rounding

evaluation e:
    fact amount: number
    let a_half_up = amount, round half up to 0.01
    let a_half_even = amount, round half even to 0.01
    let a_half_down = amount, round half down to 0.01
    let a_up = amount, round up to 0.01
    let a_down = amount, round down to 0.01
    let a_ceiling = amount, round ceiling to 0.01
    let a_floor = amount, round floor to 0.01
    let to_half = 2.4, round half up to 0.5
    let nickel_up = 0.125, round half up to 0.05
    let nickel_even = 0.125, round half even to 0.05
    let round_then_floor = 0.2, round down to 1, floor 0.5
    let floor_then_round = 0.2, floor 0.5, round down to 1
    let to_ten = amount * 1000, round half up to 10
    output shown = amount
''')


def rounding(name, amount, half_up, half_even, half_down, up, down, ceiling, floor, more=None):
    values = {"a_half_up": half_up, "a_half_even": half_even, "a_half_down": half_down, "a_up": up,
              "a_down": down, "a_ceiling": ceiling, "a_floor": floor, **(more or {})}
    case(f"v-round-{name}", construct="rounding modes", policy="rounding", facts={"amount": amount}, values=values)


# the table of docs/language.md: 2.345 is a tie at 0.01
rounding("tie-2.345", "2.345", "2.35", "2.34", "2.34", "2.35", "2.34", "2.35", "2.34")
rounding("tie-2.355", "2.355", "2.36", "2.36", "2.35", "2.36", "2.35", "2.36", "2.35")
rounding("tie-negative", "-2.345", "-2.35", "-2.34", "-2.34", "-2.35", "-2.34", "-2.34", "-2.35")
rounding("no-tie-2.341", "2.341", "2.34", "2.34", "2.34", "2.35", "2.34", "2.35", "2.34")
rounding("no-tie-negative", "-2.341", "-2.34", "-2.34", "-2.34", "-2.35", "-2.34", "-2.34", "-2.35")
# 12.3456: .3456 is past the tie: nearest 12.35; toward zero 12.34
rounding("past-the-tie", "12.3456", "12.35", "12.35", "12.35", "12.35", "12.34", "12.35", "12.34")
rounding("past-the-tie-negative", "-12.3456", "-12.35", "-12.35", "-12.35", "-12.35", "-12.34", "-12.34", "-12.35")
# 0.005 is a tie between 0.00 and 0.01 (0 is even)
rounding("tie-at-zero", "0.005", "0.01", "0.00", "0.00", "0.01", "0.00", "0.01", "0.00")
# a whole number keeps the quantum's digits: 1 -> 1.00 in every mode; 1 × 1000 = 1000 -> 1000 to 10
rounding("whole", 1, "1.00", "1.00", "1.00", "1.00", "1.00", "1.00", "1.00", {"to_ten": "1000", "shown": "1"})
# 2.5 -> 2.50; the unrounded value is shown as given: 2.5
rounding("one-decimal", "2.5", "2.50", "2.50", "2.50", "2.50", "2.50", "2.50", "2.50", {"shown": "2.5"})
# 7.775 (tie): half even goes to 7.78 (8 is even)
rounding("tie-to-even-up", "7.775", "7.78", "7.78", "7.77", "7.78", "7.77", "7.78", "7.77")
# constants of the policy: 2.4 to 0.5 -> 2.5; 0.125 to 0.05 is 2.5 quanta: half up 0.15, half even 0.10;
# 0.2 round down to 1 -> 0, floor 0.5 -> 0.5; 0.2 floor 0.5 -> 0.5, round down to 1 -> 0
case("v-round-quantum-not-a-power-of-ten", construct="rounding modes", policy="rounding", facts={"amount": 0},
     values={"to_half": "2.5", "nickel_up": "0.15", "nickel_even": "0.10", "round_then_floor": "0.5",
             "floor_then_round": "0"})
# 12.3456 × 1000 = 12345.6 -> to 10: 1234.56 quanta -> 1235 × 10 = 12350
case("v-round-to-ten", construct="rounding modes", policy="rounding", facts={"amount": "12.3456"},
     values={"to_ten": "12350"})
# 0.0045 × 1000 = 4.5 -> 0.45 quanta of 10, half up -> 0
case("v-round-to-ten-down-to-zero", construct="rounding modes", policy="rounding", facts={"amount": "0.0045"},
     values={"to_ten": "0", "a_half_up": "0.00"})
case("f-F103-percent-text-for-number", construct="facts: number", policy="rounding", facts={"amount": "10%"},
     fact_errors=[("F103", "amount")])
case("f-F103-empty-text-for-number", construct="facts: number", policy="rounding", facts={"amount": ""},
     fact_errors=[("F103", "amount")])
case("f-F103-two-points", construct="facts: number", policy="rounding", facts={"amount": "1.2.3"},
     fact_errors=[("F103", "amount")])

# ---- aggregates (docs/language.md "Aggregates") ---------------------------------------------
shared("aggregates", '''\
policy aggregates_example

evaluation monthly "大项目奖(按月)":
    fact projects "本月支持的项目": list of (id "项目编号": text, contract_amount "成交金额": money >= 0, collected "本月实际收款额": money >= 0)
    fact scores: list of number

    output big_project_bonus "大项目奖" = sum over projects of collected * 1.5%
        only if contract_amount >= 10万 else "成交金额不足10万元"
        round each half up to 0.01
        cite "售前顾问所支持的成交金额10万以上的项目,按实际收款额的1.5%计提大项目奖金"
    output big_projects = count over projects, only if contract_amount >= 10万
    let positive_scores = sum over scores, only if scores > 0
    let doubled = sum over scores of scores * 2
    let all_projects = count over projects
    let collected_total = sum over projects of collected
''')
AG = "aggregates"
# 300000.00 × 1.5% = 4500.00; 45678.90 × 1.5% = 685.1835 -> 685.18; the third (99999.99 < 10万) is left out:
# 4500.00 + 685.18 = 5185.18; two big projects; scores [1, -2, 3]: positives 1 + 3 = 4, doubled 2 - 4 + 6 = 4
case("v-sum-over-doc", construct="aggregates", policy=AG, facts={
    "projects": [{"id": "P-2026-031", "contract_amount": "1250000", "collected": "300000.00"},
                 {"id": "P-2026-044", "contract_amount": 100000, "collected": "45678.90"},
                 {"id": "P-2026-052", "contract_amount": "99999.99", "collected": "99999.99"}],
    "scores": [1, -2, 3]},
     values={"big_project_bonus": "5185.18", "big_projects": "2", "positive_scores": "4", "doubled": "4",
             "all_projects": "3", "collected_total": "445678.89"})
# 300000.00 + 45678.90 + 99999.99 = 445678.89 (above)
# one project: 12345.67 × 1.5% = 185.18505 -> 185.19
case("v-sum-over-round-each", construct="aggregates", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "200000", "collected": "12345.67"}], "scores": []},
     values={"big_project_bonus": "185.19", "big_projects": "1", "doubled": "0", "positive_scores": "0"})
# round each, then add: 3 × (333.33 × 1.5% = 4.99995 -> 5.00) = 15.00; unrounded it would be 14.99985
case("v-round-each-before-adding", construct="aggregates", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "100000", "collected": "333.33"},
                 {"id": "B", "contract_amount": "100000", "collected": "333.33"},
                 {"id": "C", "contract_amount": "100000", "collected": "333.33"}], "scores": [-1, -2]},
     values={"big_project_bonus": "15.00", "big_projects": "3", "positive_scores": "0", "doubled": "-6",
             "collected_total": "999.99"})
# only if leaves out every line: no big project; count over counts every line: 2
case("v-only-if-excludes-all", construct="aggregates", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "99999.99", "collected": "5"},
                 {"id": "B", "contract_amount": "0", "collected": "0"}], "scores": [0.5]},
     values={"big_projects": "0", "all_projects": "2", "positive_scores": "0.5", "doubled": "1"})
case("v-empty-lists", construct="aggregates", policy=AG, facts={"projects": [], "scores": []},
     values={"big_projects": "0", "all_projects": "0", "positive_scores": "0", "doubled": "0",
             "collected_total": "0"})
case("f-F110-field-constraint", construct="facts: list of records", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "-5", "collected": "1"}], "scores": []},
     fact_errors=[("F110", "projects[0].contract_amount")])
case("f-F107-missing-field", construct="facts: list of records", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "5", "collected": "1"}, {"id": "B", "contract_amount": "5"}],
    "scores": []}, fact_errors=[("F107", "projects[1].collected")])
case("f-F101-object-for-list", construct="facts: list of records", policy=AG, facts={
    "projects": {"id": "A"}, "scores": []}, fact_errors=[("F101", "projects")])
case("f-F101-line-not-an-object", construct="facts: list of records", policy=AG, facts={
    "projects": ["A"], "scores": []}, fact_errors=[("F101", "projects[0]")])
case("f-F103-element-of-number-list", construct="facts: list of", policy=AG, facts={
    "projects": [], "scores": [1, "a"]}, fact_errors=[("F103", "scores[1]")])
case("f-F101-text-field-given-a-number", construct="facts: list of records", policy=AG, facts={
    "projects": [{"id": 5, "contract_amount": "5", "collected": "1"}], "scores": []},
     fact_errors=[("F101", "projects[0].id")])
case("f-F109-duplicate-field", construct="facts: list of records", policy=AG,
     raw_facts='{"projects": [{"id": "A", "contract_amount": 5, "collected": 1, "collected": 2}], "scores": []}',
     fact_errors=[("F109", "projects[0].collected")])
# an unknown field of a line is a warning: 1 + 2 = 3 collected
case("v-F200-unknown-line-field", construct="facts: list of records", policy=AG, facts={
    "projects": [{"id": "A", "contract_amount": "5", "collected": "1", "owner": "x"},
                 {"id": "B", "contract_amount": "5", "collected": "2"}], "scores": []},
     values={"collected_total": "3"}, fact_warnings=[("F200", "projects[0].owner")])

# ---- dates and periods (docs/language.md "Dates and periods") --------------------------------
shared("proration", '''\
policy proration "按在职天数折算" version "1"

evaluation annual:
    fact year: integer in 2000..2100
    fact hire_date: date
    fact last_day: date >= hire_date
    fact quarter_worked: period of quarter
    let start "计算起始日" = max(hire_date, first_day_of_year(year))
    let stop "计算截止日" = min(last_day, last_day_of_year(year))
    output days_employed "在职天数" = days from start to stop
    output days_in_the_year "全年天数" = days_in_year(year)
    output quarter_days "季度天数" = days_in(quarter_worked)
    output joined_late "下半年入职" = hire_date >= 2026-07-01
''')
PR = "proration"


def prorate(name, facts, days, year_days, quarter_days, late, note):
    case(f"v-dates-{name}", construct="dates and periods", policy=PR, facts=facts,
         values={"days_employed": days, "days_in_the_year": year_days, "quarter_days": quarter_days,
                 "joined_late": late}, description=note)


prorate("leap-year", {"year": 2024, "hire_date": "2024-03-15", "last_day": "2025-01-31", "quarter_worked": "2024-Q1"},
        "292", "366", "91", False, "17 days of March (15..31) + 275 (April..December) = 292; Q1 2024: 31+29+31 = 91")
prorate("second-half", {"year": 2026, "hire_date": "2026-07-01", "last_day": "2026-12-31", "quarter_worked": "2026-Q3"},
        "184", "365", "92", True, "July..December: 31+31+30+31+30+31 = 184; Q3: 31+31+30 = 92")
prorate("whole-year", {"year": 2025, "hire_date": "2020-01-01", "last_day": "2030-01-01", "quarter_worked": "2025-Q4"},
        "365", "365", "92", False, "2025-01-01..2025-12-31 = 365; Q4: 31+30+31 = 92")
prorate("short-stay", {"year": 2026, "hire_date": "2026-02-10", "last_day": "2026-03-05", "quarter_worked": "2026-Q1"},
        "24", "365", "90", False, "February 10..28 = 19, March 1..5 = 5: 24; Q1 2026: 31+28+31 = 90")
prorate("hired-after-the-year", {"year": 2026, "hire_date": "2027-01-05", "last_day": "2027-02-01",
                                 "quarter_worked": "2027-Q1"},
        "0", "365", "90", True, "start 2027-01-05 is after stop 2026-12-31: 0 days")
prorate("year-2000-is-leap", {"year": 2000, "hire_date": "1999-06-01", "last_day": "2000-02-29",
                              "quarter_worked": "2000-Q1"},
        "60", "366", "91", False, "2000 is divisible by 400: January 31 + February 29 = 60")
prorate("year-2100-is-not-leap", {"year": 2100, "hire_date": "2100-02-01", "last_day": "2100-03-01",
                                  "quarter_worked": "2100-Q1"},
        "29", "365", "90", True, "2100 is divisible by 100, not 400: February 28 + March 1 = 29")
prorate("one-day", {"year": 2026, "hire_date": "2026-05-20", "last_day": "2026-05-20", "quarter_worked": "2026-Q2"},
        "1", "365", "91", False, "both ends included: 1 day; Q2: 30+31+30 = 91")
case("f-F114-day-that-does-not-exist", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-02-30", "last_day": "2026-03-01", "quarter_worked": "2026-Q1"},
     fact_errors=[("F114", "hire_date")])
case("f-F114-slashes", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-02-01", "last_day": "2026/03/01", "quarter_worked": "2026-Q1"},
     fact_errors=[("F114", "last_day")])
case("f-F114-number-for-date", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": 20260201, "last_day": "2026-03-01", "quarter_worked": "2026-Q1"},
     fact_errors=[("F114", "hire_date")])
case("f-F114-not-a-quarter", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-02-01", "last_day": "2026-03-01", "quarter_worked": "2026-Q5"},
     fact_errors=[("F114", "quarter_worked")])
case("f-F114-month-for-quarter", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-02-01", "last_day": "2026-03-01", "quarter_worked": "2026-05"},
     fact_errors=[("F114", "quarter_worked")])
case("f-F110-date-before-other-fact", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-03-01", "last_day": "2026-02-28", "quarter_worked": "2026-Q1"},
     fact_errors=[("F110", "last_day")])
case("f-F110-year-out-of-range", construct="facts: constraints", policy=PR,
     facts={"year": 1999, "hire_date": "2026-02-01", "last_day": "2026-03-01", "quarter_worked": "2026-Q1"},
     fact_errors=[("F110", "year")])
case("f-F114-february-29-not-leap", construct="dates and periods", policy=PR,
     facts={"year": 2026, "hire_date": "2026-02-01", "last_day": "2025-02-29", "quarter_worked": "2026-Q1"},
     fact_errors=[("F114", "last_day")])

shared("date_functions", '''\
policy date_functions

evaluation e:
    fact d: date
    fact m: period of month
    fact y: period of year
    output year = year_of(d)
    output quarter = quarter_of(d)
    output month = month_of(d)
    output quarter_start = first_day_of_quarter(d)
    output quarter_end = last_day_of_quarter(d)
    output month_start = first_day_of_month(d)
    output month_end = last_day_of_month(d)
    output leap = is_leap_year(d)
    output made = date_of(2026, 2, 28)
    output period_start = first_day_of(m)
    output period_end = last_day_of(m)
    output month_days = days_in(m)
    output year_days = days_in(y)
    output later = max(d, 2026-06-30)
    output earlier = min(d, 2026-06-30)
    output same = d == 2026-08-15
''')
# 2026-08-15: Q3 (Jul-Sep) 2026-07-01..2026-09-30; August 2026-08-01..2026-08-31; 2026 not leap;
# February 2024 has 29 days; 2024 has 366
case("v-date-functions-august", construct="dates and periods", policy="date_functions",
     facts={"d": "2026-08-15", "m": "2024-02", "y": "2024"},
     values={"year": "2026", "quarter": "3", "month": "8", "quarter_start": "2026-07-01", "quarter_end": "2026-09-30",
             "month_start": "2026-08-01", "month_end": "2026-08-31", "leap": False, "made": "2026-02-28",
             "period_start": "2024-02-01", "period_end": "2024-02-29", "month_days": "29", "year_days": "366",
             "later": "2026-08-15", "earlier": "2026-06-30", "same": True})
# 2028-02-10: Q1 2028-01-01..2028-03-31; February 2028 ends on the 29th (2028 is leap); December 2025: 31 days
case("v-date-functions-leap-february", construct="dates and periods", policy="date_functions",
     facts={"d": "2028-02-10", "m": "2025-12", "y": "2025"},
     values={"year": "2028", "quarter": "1", "month": "2", "quarter_start": "2028-01-01", "quarter_end": "2028-03-31",
             "month_start": "2028-02-01", "month_end": "2028-02-29", "leap": True, "period_start": "2025-12-01",
             "period_end": "2025-12-31", "month_days": "31", "year_days": "365", "later": "2028-02-10",
             "earlier": "2026-06-30", "same": False})
case("f-F114-not-a-month", construct="dates and periods", policy="date_functions",
     facts={"d": "2026-08-15", "m": "2026-13", "y": "2026"}, fact_errors=[("F114", "m")])
case("f-F114-not-a-year", construct="dates and periods", policy="date_functions",
     facts={"d": "2026-08-15", "m": "2026-12", "y": "26"}, fact_errors=[("F114", "y")])

# ---- effective-dated tables (docs/language.md "Effective-dated tables") ----------------------
shared("dated_rate", '''\
policy dated_rate "提成率调整" version "1"

table commission_rate "提成率" (close_date) -> percent:
    from 2026-01-01 -> 1.5%
    from 2026-07-01 -> 2%

evaluation annual:
    fact projects: list of (id: text, amount: money >= 0, close_date: date in 2026-01-01..2026-12-31)
    output commission = sum over projects of amount * commission_rate[close_date]
        round each half up to 0.01
''')
# 10000 × 1.5% = 150.00 (30 June); 10000 × 2% = 200.00 (1 July): 350.00
case("v-dated-table-both-versions", construct="effective-dated tables", policy="dated_rate", facts={"projects": [
    {"id": "A", "amount": "10000", "close_date": "2026-06-30"}, {"id": "B", "amount": "10000", "close_date": "2026-07-01"}]},
     values={"commission": "350.00"})
# 12345.67 × 2% = 246.9134 -> 246.91; 20000 × 1.5% = 300.00: 546.91
case("v-dated-table-first-and-last-day", construct="effective-dated tables", policy="dated_rate", facts={"projects": [
    {"id": "A", "amount": "12345.67", "close_date": "2026-12-31"}, {"id": "B", "amount": "20000", "close_date": "2026-01-01"}]},
     values={"commission": "546.91"})
case("f-F110-date-range", construct="effective-dated tables", policy="dated_rate", facts={"projects": [
    {"id": "A", "amount": "1", "close_date": "2025-12-31"}]}, fact_errors=[("F110", "projects[0].close_date")])
case("f-F114-date-field", construct="effective-dated tables", policy="dated_rate", facts={"projects": [
    {"id": "A", "amount": "1", "close_date": "2026-7-1"}]}, fact_errors=[("F114", "projects[0].close_date")])

# ---- the as-of date and versions of an evaluation ----------------------------------------------
shared("year_end", '''\
policy year_end "年终奖" version "2"

table base_rate (day) -> percent:
    from 2026-01-01 -> 10%
    from 2026-10-01 -> 12%

evaluation annual "年终奖" effective from 2026-01-01 until 2026-12-31:
    fact salary: money >= 0
    output bonus = salary * 2
    output extra = salary * base_rate[evaluation_date]

evaluation annual "年终奖" effective from 2027-01-01:
    fact salary: money >= 0
    fact grade: one of A, B
    output bonus = salary * (if grade == "A" then 3 else 2)
''')
# 2026: 1000 × 2 = 2000; as of 2026-07-01 the 10% version: 100
case("v-as-of-first-version", construct="versions of an evaluation", policy="year_end", as_of="2026-07-01",
     facts={"salary": "1000"}, values={"bonus": "2000", "extra": "100"})
# as of 2026-12-31 (the last day of the first version) the 12% row applies: 1000 × 12% = 120
case("v-as-of-dated-table-by-evaluation-date", construct="effective-dated tables", policy="year_end",
     as_of="2026-12-31", facts={"salary": "1000"}, values={"bonus": "2000", "extra": "120"})
# from 2027: grade A -> 1000 × 3 = 3000; grade B -> 2000
case("v-as-of-second-version-a", construct="versions of an evaluation", policy="year_end", as_of="2027-03-01",
     facts={"salary": "1000", "grade": "A"}, values={"bonus": "3000"})
case("v-as-of-second-version-b", construct="versions of an evaluation", policy="year_end", as_of="2030-01-01",
     facts={"salary": "1500", "grade": "B"}, values={"bonus": "3000"})
case("f-F107-fact-of-the-later-version", construct="versions of an evaluation", policy="year_end",
     as_of="2027-01-01", facts={"salary": "1000"}, fact_errors=[("F107", "grade")])

# ---- declared functions (docs/language.md "Declared functions") ------------------------------
shared("functions", '''\
policy functions_example

table grade_factor "等级系数" (grade) -> number:
    "A" -> 1.2; "B" -> 1.0; "C" -> 0.8

function completion "完成率" (actual: money, target: money) = (actual - target * 70%) / (target * 30%)
    floor 0
    cite "完成率=(实际-目标×70%)/(目标×30%),最低为零"

function graded(amount: money, grade: text) = amount * grade_factor[grade]
    round half up to 0.01

function doubled_completion(actual: money, target: money) = completion(actual, target) * 2

evaluation quarterly:
    fact revenue: money >= 0
    fact target: money > 0
    fact own_revenue: money >= 0
    fact own_target: money > 0
    fact grade: text matching "[ABC]"

    let dept_completion = completion(revenue, target)
    let own_completion = completion(own_revenue, own_target)
    let twice = doubled_completion(revenue, target)
    output bonus = graded(10000元 * dept_completion, grade)
''')
FN = "functions"
# (850000 - 700000) / 300000 = 0.5; (600000 - 700000) / 300000 < 0 -> floor 0; 10000 × 0.5 × 1.2 = 6000
case("v-function-doc", construct="declared functions", policy=FN, facts={
    "revenue": "850000", "target": "1000000", "own_revenue": "600000", "own_target": "1000000", "grade": "A"},
     values={"dept_completion": "0.5", "own_completion": "0", "bonus": "6000", "twice": "1"})
# (1000000 - 700000) / 300000 = 1; (1300000 - 700000) / 300000 = 2; 10000 × 1 × 1.0 = 10000
case("v-function-grade-b", construct="declared functions", policy=FN, facts={
    "revenue": "1000000", "target": "1000000", "own_revenue": "1300000", "own_target": "1000000", "grade": "B"},
     values={"dept_completion": "1", "own_completion": "2", "bonus": "10000", "twice": "2"})
# (775000 - 700000) / 300000 = 0.25; 10000 × 0.25 × 0.8 = 2000
case("v-function-grade-c", construct="declared functions", policy=FN, facts={
    "revenue": "775000", "target": "1000000", "own_revenue": "700000", "own_target": "1000000", "grade": "C"},
     values={"dept_completion": "0.25", "own_completion": "0", "bonus": "2000", "twice": "0.5"})
# (123456.78 - 70000) / 30000 = 53456.78 / 30000; × 10000 × 1.2 = 53456.78 × 0.4 = 21382.712 -> 21382.71
case("v-function-round-clause", construct="declared functions", policy=FN, facts={
    "revenue": "123456.78", "target": "100000", "own_revenue": "0", "own_target": "1", "grade": "A"},
     values={"own_completion": "0", "bonus": "21382.71"})
case("f-F111-pattern", construct="facts: matching", policy=FN, facts={
    "revenue": "1", "target": "1", "own_revenue": "1", "own_target": "1", "grade": "D"},
     fact_errors=[("F111", "grade")])
case("f-F111-whole-text-must-match", construct="facts: matching", policy=FN, facts={
    "revenue": "1", "target": "1", "own_revenue": "1", "own_target": "1", "grade": "AB"},
     fact_errors=[("F111", "grade")])
case("f-F101-number-for-text", construct="facts: text", policy=FN, facts={
    "revenue": "1", "target": "1", "own_revenue": "1", "own_target": "1", "grade": 1},
     fact_errors=[("F101", "grade")])

# ---- scorecards, items, minus/plus, score, gates ---------------------------------------------
shared("kpi", '''\
policy kpi "KPI"

evaluation q:
    fact late_days: count
    fact complaints: count
    fact on_plan: boolean
    fact delivered: boolean
    fact bonus_points: number
    fact rollout: record of boolean (training, tools)
    fact violations: list of number in 1..2
    scorecard kpi "KPI得分" total 60:
        item discipline weight 20:
            minus 2 per late_days
            minus 5 if complaints > 2
            minus 1 per complaints if complaints > 0
            minus sum(violations)
            floor 0
        item training weight 20, knowledge:
            minus 5 if not on_plan
            plus bonus_points
            cap 25
        item tools weight 10, knowledge:
            score 0 if not delivered
            plus 3
        item report weight 10:
            score 4 if not delivered
        gate knowledge items: count only if rollout[item] else "未经过培训推广"
        cap 60
    output kpi_bonus = kpi * 100元
        round half up to 0.01
''')
KPI = "kpi"


def kpi(name, facts, values, note):
    case(f"v-kpi-{name}", construct="scorecards", policy=KPI, facts=facts, values=values,
         description=note)


kpi("all-clear", {"late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
                  "rollout": {"training": True, "tools": True}, "violations": []},
    {"discipline": "20", "training": "20", "tools": "13", "report": "10", "kpi": "60", "kpi_bonus": "6000.00"},
    "20 + 20 + (10 + 3) + 10 = 63, capped at 60; 60 × 100 = 6000.00")
kpi("deductions-and-gate", {"late_days": 3, "complaints": 4, "on_plan": False, "delivered": False,
                            "bonus_points": "0.5", "rollout": {"training": True, "tools": False}, "violations": [1, 2]},
    {"discipline": "2", "training": "15.5", "tools": "0", "report": "4", "kpi": "21.5", "kpi_bonus": "2150.00"},
    "discipline 20 - 6 - 5 - 4 - 3 = 2; training 20 - 5 + 0.5; tools 0 + 3 excluded by the gate; report 4")
kpi("floor-and-cap-in-items", {"late_days": 10, "complaints": 0, "on_plan": True, "delivered": True,
                               "bonus_points": 10, "rollout": {"training": False, "tools": True},
                               "violations": [2, 2, 2]},
    {"discipline": "0", "training": "0", "tools": "13", "report": "10", "kpi": "23", "kpi_bonus": "2300.00"},
    "discipline 20 - 20 - 6 = -6, floor 0; training 30 capped at 25, then excluded by the gate")
kpi("fractions", {"late_days": 1, "complaints": 3, "on_plan": True, "delivered": True, "bonus_points": -2,
                  "rollout": {"training": True, "tools": True}, "violations": ["1.5"]},
    {"discipline": "8.5", "training": "18", "tools": "13", "report": "10", "kpi": "49.5", "kpi_bonus": "4950.00"},
    "discipline 20 - 2 - 5 - 3 - 1.5 = 8.5; training 20 - 2 = 18; 8.5 + 18 + 13 + 10 = 49.5")
kpi("one-complaint", {"late_days": 0, "complaints": 1, "on_plan": True, "delivered": True, "bonus_points": "0.25",
                      "rollout": {"training": True, "tools": False}, "violations": [1]},
    {"discipline": "18", "training": "20.25", "tools": "0", "report": "10", "kpi": "48.25", "kpi_bonus": "4825.00"},
    "discipline 20 - 1 - 1 = 18 (one complaint is not > 2); training 20.25; tools excluded; 18 + 20.25 + 10")
case("f-F110-list-element-range", construct="facts: list of", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
    "rollout": {"training": True, "tools": True}, "violations": [1, 3]}, fact_errors=[("F110", "violations[1]")])
case("f-F107-missing-record-key", construct="facts: record of", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
    "rollout": {"training": True}, "violations": []}, fact_errors=[("F107", "rollout.tools")])
case("f-F101-record-value-type", construct="facts: record of", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
    "rollout": {"training": "yes", "tools": True}, "violations": []}, fact_errors=[("F101", "rollout.training")])
case("f-F101-record-not-an-object", construct="facts: record of", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
    "rollout": True, "violations": []}, fact_errors=[("F101", "rollout")])
case("f-F101-quoted-boolean", construct="facts: boolean", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": "true", "delivered": True, "bonus_points": 0,
    "rollout": {"training": True, "tools": True}, "violations": []}, fact_errors=[("F101", "on_plan")])
case("f-F101-number-for-boolean", construct="facts: boolean", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": 1, "bonus_points": 0,
    "rollout": {"training": True, "tools": True}, "violations": []}, fact_errors=[("F101", "delivered")])
case("f-F101-number-for-list", construct="facts: list of", policy=KPI, facts={
    "late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
    "rollout": {"training": True, "tools": True}, "violations": 1}, fact_errors=[("F101", "violations")])
# an unknown record key is a warning: everything as in v-kpi-all-clear
kpi("unknown-record-key", {"late_days": 0, "complaints": 0, "on_plan": True, "delivered": True, "bonus_points": 0,
                           "rollout": {"training": True, "tools": True, "sales": False}, "violations": []},
    {"kpi": "60"}, "an unknown key of a record is ignored")
CASES[-1]["fact_warnings"] = [("F200", "rollout.sales")]
case("f-F109-duplicate-record-key", construct="facts: record of", policy=KPI,
     raw_facts='{"late_days": 0, "complaints": 0, "on_plan": true, "delivered": true, "bonus_points": 0, '
               '"rollout": {"training": true, "tools": true, "tools": false}, "violations": []}',
     fact_errors=[("F109", "rollout.tools")])

# ---- bands (docs/language.md "Bands") --------------------------------------------------------
shared("grading", '''\
policy grading "年度考核评级"

bands five_grades "五级评定" in 0..100:
    "优秀" from 91
    "良好" from 81 below 91
    "称职" from 71 below 81
    "基本称职" from 60 below 71
    "不称职" below 60

table grade_factor "等级系数" (grade) -> number:
    "优秀" -> 1.2; "良好" -> 1.0; "称职" -> 0.8; "基本称职" -> 0.5; "不称职" -> 0

bands completion_levels "完成等级" in 0%..200%:
    "不足" below 70%
    "达标" from 70% to 100%
    "超额" above 100%

evaluation annual:
    fact total_score "年度总分": number in 0..100
    fact completion "任务完成率": percent in 0%..200%
    fact bonus_base "年终奖基数": money >= 0

    output grade "考核等级" = five_grades[total_score]
    output bonus "年终奖" = bonus_base * grade_factor[grade]
    let excellent = grade == "优秀"
    output level "完成等级" = completion_levels[completion]
''')
GR = "grading"


def grading(name, score, completion, grade, bonus, excellent, level, note=""):
    case(f"v-bands-{name}", construct="bands", policy=GR,
         facts={"total_score": score, "completion": completion, "bonus_base": "10000"},
         values={"grade": grade, "bonus": bonus, "excellent": excellent, "level": level}, description=note)


grading("between-whole-scores", "90.5", "1", "良好", "10000", False, "达标", "90.5 is from 81 below 91; 100% is to 100%")
grading("edge-included", 91, "1.0001", "优秀", "12000", True, "超额", "10000 × 1.2; 1.0001 is above 100%")
grading("just-below", "59.99", "0.6999", "不称职", "0", False, "不足", "below 60: factor 0; below 70%")
grading("lower-edge", 60, "0.7", "基本称职", "5000", False, "达标", "from 60: factor 0.5; from 70%")
grading("top", 100, "2", "优秀", "12000", True, "超额", "HIGH is included")
grading("bottom", 0, "0", "不称职", "0", False, "不足", "LOW is included")
grading("below-an-edge", "80.999", "1", "称职", "8000", False, "达标", "80.999 < 81: 称职, factor 0.8")
grading("on-an-edge", 81, "0.85", "良好", "10000", False, "达标", "from 81: 良好")
grading("middle-band", "70.5", "1.5", "基本称职", "5000", False, "超额", "60 <= 70.5 < 71")
case("f-F110-band-fact-range", construct="bands", policy=GR,
     facts={"total_score": 101, "completion": "1", "bonus_base": "1"}, fact_errors=[("F110", "total_score")])
case("f-F110-percent-range", construct="facts: percent", policy=GR,
     facts={"total_score": 50, "completion": "2.5", "bonus_base": "1"}, fact_errors=[("F110", "completion")])
case("f-F103-chinese-number", construct="facts: number", policy=GR,
     facts={"total_score": "九十", "completion": "1", "bonus_base": "1"}, fact_errors=[("F103", "total_score")])
case("f-three-violations", construct="facts", policy=GR,
     facts={"total_score": -1, "completion": "x", "bonus_base": "-1"},
     fact_errors=[("F110", "total_score"), ("F103", "completion"), ("F110", "bonus_base")])

# ---- literals and operators (docs/language.md "Literals", "Expressions and operators") ---------
shared("operators", '''\
policy operators

evaluation e:
    fact a: number
    fact b: number
    fact flag: boolean
    fact role: one of senior, assistant
    let sum_ab = a + b
    let diff = a - b
    let prod = a * b
    let prod_sign = a × b
    let quarter_a = a ÷ 4
    let neg = -a * 3
    let precedence = 2 + 3 * 4 - 10 ÷ 5
    let left_to_right = 10 - 4 - 3
    let div_chain = 12 ÷ 4 / 3
    let percents = 12.5% + 0.05
    let amounts = 1.5万 + 99.5元
    let at_least = a >= b
    let is_senior = role == "senior"
    let not_senior = role != "senior"
    let logic = not a > 1 or flag and b > 0
    let pick = if a > 10 then 3 else if a > 0 then 2 else 1
    let largest = max(a, b, 0)
    let smallest = min(a, b)
    let distance = abs(b - a)
    let exact = 1 / 3 * 3
    let grouped = (a + b) * 2
    let text_value = "开拓型"
    let truth = true
    output chosen = if flag then a else b
''')
OP = "operators"
# a 5, b 2: 7, 3, 10, 10, 1.25, -15; 2 + 12 - 2 = 12; 10 - 4 - 3 = 3; 12 ÷ 4 / 3 = 1; 0.125 + 0.05 = 0.175;
# 15000 + 99.5 = 15099.5; 5 >= 2; not (5 > 1) = false, flag false: false; 5 > 0: 2; max 5, min 2, |2 - 5| = 3;
# 1/3 × 3 = 1 exactly; (5 + 2) × 2 = 14; chosen b = 2
case("v-operators-a", construct="expressions and operators", policy=OP,
     facts={"a": 5, "b": 2, "flag": False, "role": "senior"},
     values={"sum_ab": "7", "diff": "3", "prod": "10", "prod_sign": "10", "quarter_a": "1.25", "neg": "-15",
             "precedence": "12", "left_to_right": "3", "div_chain": "1", "percents": "0.175", "amounts": "15099.5",
             "at_least": True, "is_senior": True, "not_senior": False, "logic": False, "pick": "2", "largest": "5",
             "smallest": "2", "distance": "3", "exact": "1", "grouped": "14", "text_value": "开拓型", "truth": True,
             "chosen": "2"})
# a -1.5, b 4: 2.5, -5.5, -6, -0.375, 4.5; not (-1.5 > 1) = true -> true; pick 1; max(-1.5, 4, 0) = 4;
# min -1.5; |4 + 1.5| = 5.5; (−1.5 + 4) × 2 = 5; chosen a = -1.5
case("v-operators-negative", construct="expressions and operators", policy=OP,
     facts={"a": "-1.5", "b": 4, "flag": True, "role": "assistant"},
     values={"sum_ab": "2.5", "diff": "-5.5", "prod": "-6", "quarter_a": "-0.375", "neg": "4.5", "at_least": False,
             "is_senior": False, "not_senior": True, "logic": True, "pick": "1", "largest": "4", "smallest": "-1.5",
             "distance": "5.5", "grouped": "5", "chosen": "-1.5"})
# a 20, b 20: 40, 0, 400, 5, -60; not (20 > 1) false, flag and 20 > 0 true: true; pick 3; equal max/min 20
case("v-operators-equal", construct="expressions and operators", policy=OP,
     facts={"a": 20, "b": "20.0", "flag": True, "role": "senior"},
     values={"sum_ab": "40", "diff": "0", "prod": "400", "quarter_a": "5", "neg": "-60", "at_least": True,
             "logic": True, "pick": "3", "largest": "20", "smallest": "20", "distance": "0", "chosen": "20"})
# a 0, b -3: pick 1 (0 is not > 0); largest max(0, -3, 0) = 0; logic: not (0 > 1) = true
case("v-operators-else-if-chain", construct="expressions and operators", policy=OP,
     facts={"a": 0, "b": -3, "flag": False, "role": "assistant"},
     values={"pick": "1", "largest": "0", "smallest": "-3", "logic": True, "distance": "3", "chosen": "-3",
             "at_least": True})
case("f-F106-enum-wrong-case", construct="facts: one of", policy=OP,
     facts={"a": 1, "b": 1, "flag": True, "role": "Senior"}, fact_errors=[("F106", "role")])
case("f-F101-boolean-as-number", construct="facts: boolean", policy=OP,
     facts={"a": 1, "b": 1, "flag": 0, "role": "senior"}, fact_errors=[("F101", "flag")])
case("f-F104-41-digits", construct="facts: number", policy=OP,
     facts={"a": "1" * 41, "b": 1, "flag": True, "role": "senior"}, fact_errors=[("F104", "a")])
case("f-F104-tiny-decimal-text", construct="facts: number", policy=OP,
     facts={"a": "0." + "0" * 45 + "1", "b": 1, "flag": True, "role": "senior"}, fact_errors=[("F104", "a")])
case("f-F107-missing-boolean", construct="facts", policy=OP,
     facts={"a": 1, "b": 1, "role": "senior"}, fact_errors=[("F107", "flag")])

# ---- fact types (docs/language.md "Facts: Types") --------------------------------------------
shared("types", '''\
policy types

evaluation e:
    fact quarter "季度": integer in 1..4
    fact proposals_total: count
    fact bonus_points: number
    fact base_salary: money >= 0
    fact attendance_rate: percent in 0%..100%
    fact on_plan: boolean
    fact month: text matching "[0-9]{4}-(0[1-9]|1[0-2])"
    fact role: one of senior, assistant
    fact violations: list of number in 1..2
    fact projects: list of (id: text, amount: money >= 0) at most 3
    fact rollout: record of boolean (a, b)
    output q = quarter
    output p = proposals_total + bonus_points
    output pay = base_salary * attendance_rate
    output ok = on_plan and rollout.a
    output either = rollout["a"] or rollout.b
    output m = month
    output senior = role == "senior"
    output v = sum(violations)
    output n = count(projects)
    output nv = count(violations)
    output total = sum over projects of amount
''')
TY = "types"
TYPES_OK = {"quarter": 3, "proposals_total": 20, "bonus_points": "-1.5", "base_salary": "36000.00",
            "attendance_rate": "0.97", "on_plan": True, "month": "2026-05", "role": "senior",
            "violations": [1, 2, "1.5"], "projects": [{"id": "P-1", "amount": "1250000"}, {"id": "P-2", "amount": "300000.50"}],
            "rollout": {"a": True, "b": False}}


def types_case(name, change, *, values=None, fact_errors=None, raw=None, construct="facts: types"):
    facts = {**TYPES_OK, **change}
    case(name, construct=construct, policy=TY, facts=None if raw else facts, raw_facts=raw, values=values,
         fact_errors=fact_errors)


# 20 - 1.5 = 18.5; 36000.00 × 0.97 = 34920; 1 + 2 + 1.5 = 4.5; 1250000 + 300000.50 = 1550000.5
types_case("v-types-all", {}, values={"q": "3", "p": "18.5", "pay": "34920", "ok": True, "either": True,
                                      "m": "2026-05", "senior": True, "v": "4.5", "n": "2", "nv": "3",
                                      "total": "1550000.5"})
types_case("v-types-integer-written-3.0", {}, raw=json.dumps({**TYPES_OK, "quarter": "__Q__"}).replace('"__Q__"', "3.0"),
           values={"q": "3"})
types_case("v-types-integer-as-text", {"quarter": "4"}, values={"q": "4"})
# a negative number fact: 20 + (-21) = -1
types_case("v-types-negative-number", {"bonus_points": -21}, values={"p": "-1"})
types_case("v-types-empty-lists", {"violations": [], "projects": []}, values={"v": "0", "n": "0", "nv": "0", "total": "0"})
# rollout a false, b false: ok false, either false
types_case("v-types-record-false", {"rollout": {"a": False, "b": False}, "role": "assistant"},
           values={"ok": False, "either": False, "senior": False})
types_case("v-types-text-any-characters", {"month": "2026-12"}, values={"m": "2026-12"})
types_case("f-F105-integer-fraction", {"quarter": "3.5"}, fact_errors=[("F105", "quarter")])
types_case("f-F110-integer-range", {"quarter": 5}, fact_errors=[("F110", "quarter")])
types_case("f-F110-integer-range-low", {"quarter": 0}, fact_errors=[("F110", "quarter")])
types_case("f-F110-count-negative", {"proposals_total": -1}, fact_errors=[("F110", "proposals_total")])
types_case("f-F111-month-pattern", {"month": "2026-13"}, fact_errors=[("F111", "month")])
types_case("f-F111-pattern-needs-whole-text", {"month": "x2026-05"}, fact_errors=[("F111", "month")])
types_case("f-F108-at-most", {"projects": [{"id": str(i), "amount": "1"} for i in range(4)]},
           fact_errors=[("F108", "projects")])
types_case("f-F101-id-number", {"projects": [{"id": 7, "amount": "1"}]}, fact_errors=[("F101", "projects[0].id")])
types_case("f-F101-record-as-list", {"rollout": [True, False]}, fact_errors=[("F101", "rollout")])
types_case("f-F103-salary-with-comma", {"base_salary": "36,000"}, fact_errors=[("F103", "base_salary")])
types_case("f-F103-percent-sign", {"attendance_rate": "97%"}, fact_errors=[("F103", "attendance_rate")])
types_case("f-F110-percent-above-100", {"attendance_rate": "1.01"}, fact_errors=[("F110", "attendance_rate")])
types_case("f-F110-money-negative", {"base_salary": "-0.5"}, fact_errors=[("F110", "base_salary")])
types_case("f-F110-list-element", {"violations": [1, 2, "2.5"]}, fact_errors=[("F110", "violations[2]")])
types_case("f-F110-list-element-low", {"violations": ["0.5"]}, fact_errors=[("F110", "violations[0]")])
types_case("f-F106-role", {"role": "manager"}, fact_errors=[("F106", "role")])
types_case("f-F107-record-key-missing", {"rollout": {"a": True}}, fact_errors=[("F107", "rollout.b")])
types_case("f-many-at-once", {"quarter": "3.5", "proposals_total": -1, "base_salary": "36,000",
                              "attendance_rate": "97%", "on_plan": "yes", "month": "2026-5", "role": "manager",
                              "violations": [3], "projects": [{"id": "P-1", "amount": "-1"}],
                              "rollout": {"a": True}},
           fact_errors=[("F105", "quarter"), ("F110", "proposals_total"), ("F103", "base_salary"),
                        ("F103", "attendance_rate"), ("F101", "on_plan"), ("F111", "month"), ("F106", "role"),
                        ("F110", "violations[0]"), ("F110", "projects[0].amount"), ("F107", "rollout.b")])

# ---- constraints (docs/language.md "Constraints") --------------------------------------------
shared("constraints", '''\
policy constraints

evaluation e:
    fact proposals_total "售前方案总数": count
    fact proposals_excellent "优秀方案数": count <= proposals_total
    fact base_salary: money >= 0
    fact paid_bonus "已发奖金": money >= 0 and <= base_salary * 2
    fact quarter: integer in 1..4 and != 3
    fact rating: number in 0..5
    fact deals: list of (amount: money in 0..100万, stage: one of won, lost) at most 50
    output deal_count = count(deals)
    output won_total = sum over deals of amount
        only if stage == "won"
    output share = if proposals_total > 0 then proposals_excellent / proposals_total else 0
''')
CO = "constraints"
CO_OK = {"proposals_total": 20, "proposals_excellent": 20, "base_salary": "36000", "paid_bonus": "72000",
         "quarter": 4, "rating": "4.5", "deals": [{"amount": "1000000", "stage": "won"},
                                                   {"amount": "5", "stage": "lost"}]}


def constraints(name, change, **kw):
    case(name, construct="facts: constraints", policy=CO, facts={**CO_OK, **change}, **kw)


# all bounds met at their edges: 20 <= 20; 72000 <= 36000 × 2; 100万 is in 0..100万; share 20/20 = 1
constraints("v-constraints-at-the-edges", {}, values={"deal_count": "2", "won_total": "1000000", "share": "1"})
# 17/20 = 0.85
constraints("v-constraints-share", {"proposals_excellent": 17, "quarter": 1, "rating": 0},
            values={"share": "0.85"})
constraints("f-constraints-doc", {"proposals_excellent": 21, "paid_bonus": "72000.01", "quarter": 3, "rating": 6,
                                  "deals": [{"amount": "-1", "stage": "won"}, {"amount": "5", "stage": "open"}]},
            fact_errors=[("F110", "proposals_excellent"), ("F110", "paid_bonus"), ("F110", "quarter"),
                         ("F110", "rating"), ("F110", "deals[0].amount"), ("F106", "deals[1].stage")])
constraints("f-F110-bound-by-another-fact", {"proposals_excellent": 21}, fact_errors=[("F110", "proposals_excellent")])
constraints("f-F110-not-equal", {"quarter": 3}, fact_errors=[("F110", "quarter")])
constraints("f-F110-arithmetic-bound", {"paid_bonus": "72000.01"}, fact_errors=[("F110", "paid_bonus")])
constraints("f-only-the-invalid-bound-reported", {"proposals_total": -1, "proposals_excellent": 5},
            fact_errors=[("F110", "proposals_total")],
            description="the bound names an invalid fact: only that fact's own violation is reported")
constraints("f-F110-field-above-range", {"deals": [{"amount": "1000000.01", "stage": "won"}]},
            fact_errors=[("F110", "deals[0].amount")])
constraints("f-F106-enum-field", {"deals": [{"amount": "1", "stage": "open"}]}, fact_errors=[("F106", "deals[0].stage")])
constraints("f-F108-list-too-long", {"deals": [{"amount": "1", "stage": "won"}] * 51}, fact_errors=[("F108", "deals")])

# ---- list rules (docs/language.md "List rules") ----------------------------------------------
shared("list_rules", '''\
policy list_rules

evaluation e:
    fact goals "年度目标": list of (name "目标": text, weight "权重": percent > 0) at least 1 at most 5 with weight adding up to 100%
    fact scores "评委打分": list of number in 0..100 at least 3
    let goal_count = count(goals)
    let average = sum(scores) / count(scores)
''')
LR = "list_rules"
# 2 goals; (80 + 90 + 100) / 3 = 90
case("v-list-rules-doc", construct="list rules", policy=LR, facts={
    "goals": [{"name": "收入", "weight": "0.6"}, {"name": "回款", "weight": "0.4"}], "scores": [80, 90, 100]},
     values={"goal_count": "2", "average": "90"})
# one goal of 100%; (0 + 0 + 1) / 3 = 1/3
case("v-list-rules-one-goal", construct="list rules", policy=LR, facts={
    "goals": [{"name": "收入", "weight": 1}], "scores": [0, 0, 1]},
     values={"goal_count": "1", "average": "0.3333333333333333333333333333"})
# five goals of 20%: 1 (at most 5 allows five); (100 × 4) / 4 = 100
case("v-list-rules-at-most-edge", construct="list rules", policy=LR, facts={
    "goals": [{"name": str(i), "weight": "0.2"} for i in range(5)], "scores": [100, 100, 100, 100]},
     values={"goal_count": "5", "average": "100"})
case("f-F108-and-F113-empty", construct="list rules", policy=LR, facts={"goals": [], "scores": [80, 90]},
     fact_errors=[("F108", "goals"), ("F113", "goals"), ("F108", "scores")])
case("f-F113-total", construct="list rules", policy=LR, facts={
    "goals": [{"name": "收入", "weight": "0.6"}, {"name": "回款", "weight": "0.3"}], "scores": [80, 90, 101]},
     fact_errors=[("F113", "goals"), ("F110", "scores[2]")])
case("f-F113-total-above", construct="list rules", policy=LR, facts={
    "goals": [{"name": "收入", "weight": "0.6"}, {"name": "回款", "weight": "0.5"}], "scores": [1, 2, 3]},
     fact_errors=[("F113", "goals")])
case("f-F108-too-many", construct="list rules", policy=LR, facts={
    "goals": [{"name": str(i), "weight": "0.1"} for i in range(6)], "scores": [1, 2, 3]},
     fact_errors=[("F108", "goals"), ("F113", "goals")],
     description="six entries of 10% break `at most 5` and add up to 0.6")
case("f-total-not-checked-when-an-entry-is-invalid", construct="list rules", policy=LR, facts={
    "goals": [{"name": "收入", "weight": 0}], "scores": [1, 2, 3]}, fact_errors=[("F110", "goals[0].weight")])

# ---- tables and lookups (docs/language.md "Tables", "Table lookup and record access") ------------
shared("tables", '''\
policy tables_example

table quarter_split "季度任务分解" (quarter) -> percent: 1 -> 15%; 2 -> 25%; 3 -> 30%; 4 -> 30%

table annual_target "个人年度任务额" (role) -> money:
    senior -> 200万       # 高级售前
    assistant -> 160万    # 助理售前
    cite "高级售前200万,助理售前160万"

table grade_factor "考核等级系数" (grade) -> number:
    "A" -> 1.2; "B" -> 1.0
    "C" -> 0.8; "D" -> 0

table penalty (level) -> number:
    1 -> -2
    2 -> -5

table rates_by_step (step) -> percent:
    0.5 -> 1%
    1.5 -> 2%

table eligible (role) -> boolean:
    senior -> true; assistant -> false

table titles (role) -> text:
    senior -> "高级售前"; assistant -> "助理售前"

evaluation quarterly:
    fact quarter: integer in 1..4
    fact role: one of senior, assistant
    fact grade: text matching "[ABCD]"
    fact level: integer in 1..2
    fact step: number

    output own_target = annual_target[role] * quarter_split[quarter]
    output factor = grade_factor[grade]
    output penalty_points = penalty[level]
    output literal_key = grade_factor["B"]
    output computed_key = quarter_split[5 - quarter]
    output step_rate = rates_by_step[step]
    output is_eligible = eligible[role]
    output title = titles[role]
''')
TB = "tables"
# senior 200万 × 25% = 500000; C 0.8; level 2 -5; B 1.0 -> "1.0"?  (shown as written: 1.0); 5 - 2 = 3 -> 30%
case("v-tables-doc", construct="tables", policy=TB,
     facts={"quarter": 2, "role": "senior", "grade": "C", "level": 2, "step": "0.5"},
     values={"own_target": "500000", "factor": "0.8", "penalty_points": "-5", "computed_key": "0.3",
             "step_rate": "0.01", "is_eligible": True, "title": "高级售前"})
# assistant 160万 × 30% (quarter 4) = 480000; A 1.2; level 1 -2; 5 - 4 = 1 -> 15%; step 1.5 -> 2%
case("v-tables-assistant", construct="tables", policy=TB,
     facts={"quarter": 4, "role": "assistant", "grade": "A", "level": 1, "step": "1.5"},
     values={"own_target": "480000", "factor": "1.2", "penalty_points": "-2", "computed_key": "0.15",
             "step_rate": "0.02", "is_eligible": False, "title": "助理售前"})
# senior 200万 × 15% = 300000; D 0
case("v-tables-first-quarter", construct="tables", policy=TB,
     facts={"quarter": 1, "role": "senior", "grade": "D", "level": 1, "step": "0.50"},
     values={"own_target": "300000", "factor": "0", "computed_key": "0.3", "step_rate": "0.01"})
case("r-R001-no-row-for-number-key", construct="tables", policy=TB,
     facts={"quarter": 1, "role": "senior", "grade": "A", "level": 1, "step": "2"},
     evaluation_error=At("rates_by_step[step]"),
     description="a number key the table does not have stops the evaluation")

# ---- top-level let (docs/language.md "Top-level let") ----------------------------------------
shared("shared_values", '''\
policy shared_values

let dept_annual_target "部门年度销售任务" = 1160万
    cite "U8ERP售前顾问团队销售收入指标1160 万元"
let dept_quarter_share = dept_annual_target / 4
let unused_constant = 7

evaluation quarterly:
    fact dept_revenue: money >= 0
    output completion = dept_revenue / dept_quarter_share
''')
# 1160万 = 11600000; / 4 = 2900000; 2900000 / 2900000 = 1
case("v-top-level-let", construct="top-level let", policy="shared_values", facts={"dept_revenue": "2900000"},
     values={"dept_annual_target": "11600000", "dept_quarter_share": "2900000", "completion": "1"})
# 1450000 / 2900000 = 0.5
case("v-top-level-let-half", construct="top-level let", policy="shared_values", facts={"dept_revenue": "1450000"},
     values={"completion": "0.5"})

# ---- evaluations (docs/language.md "Evaluations") --------------------------------------------
shared("two_evaluations", '''\
policy two_evaluations

evaluation quarterly "综合业务考核奖(季度)":
    fact base_salary: money >= 0
    output quarterly_bonus = base_salary * 40%

evaluation monthly "大项目奖(按月)":
    fact collected: money >= 0
    output big_project_bonus = collected * 1.5%
''')
# 300000 × 1.5% = 4500
case("v-second-evaluation", construct="evaluations", policy="two_evaluations", evaluation_name="monthly",
     facts={"collected": "300000"}, values={"big_project_bonus": "4500"})
# 36000 × 40% = 14400
case("v-first-evaluation", construct="evaluations", policy="two_evaluations", evaluation_name="quarterly",
     facts={"base_salary": "36000"}, values={"quarterly_bonus": "14400"})
# 12345.67 × 1.5% = 185.18505 (not rounded: no round clause)
case("v-unrounded-stays-exact", construct="evaluations", policy="two_evaluations", evaluation_name="monthly",
     facts={"collected": "12345.67"}, values={"big_project_bonus": "185.18505"})
case("f-facts-of-the-named-evaluation", construct="evaluations", policy="two_evaluations",
     evaluation_name="quarterly", facts={"collected": "1"}, fact_errors=[("F107", "base_salary")],
     fact_warnings=[("F200", "collected")])

# ---- blend (docs/language.md "Weighted average: blend") --------------------------------------
shared("blend", '''\
policy blend_example

evaluation e:
    fact q1 "一季度得分": number
    fact q2 "二季度得分": number
    fact q3 "三季度得分": number
    fact bonus_h1: money
    fact bonus_h2: money
    let annual_score "年度综合得分" = blend(q1 20%, q2 30%, q3 50%)
    let average_bonus = blend(bonus_h1 0.5, bonus_h2 0.5)
    let with_parts = blend((q1 + q2) 40%, q3 60%)
''')
# 80 × 0.2 + 90 × 0.3 + 100 × 0.5 = 16 + 27 + 50 = 93; (3000 + 5000.50) / 2 = 4000.25; 170 × 0.4 + 60 = 128
case("v-blend-doc", construct="blend", policy="blend", facts={"q1": 80, "q2": 90, "q3": "100", "bonus_h1": "3000",
                                                                "bonus_h2": "5000.50"},
     values={"annual_score": "93", "average_bonus": "4000.25", "with_parts": "128"})
# 100 × 0.2 + 50 × 0.3 + 10 × 0.5 = 20 + 15 + 5 = 40; 1000 × 0.5 + 2000 × 0.5 = 1500; 150 × 0.4 + 6 = 66
case("v-blend-mixed", construct="blend", policy="blend", facts={"q1": 100, "q2": 50, "q3": 10, "bonus_h1": 1000,
                                                                  "bonus_h2": 2000},
     values={"annual_score": "40", "average_bonus": "1500", "with_parts": "66"})
# 1 × 0.2 + 1 × 0.3 + 1 × 0.5 = 1; (0.01 + 0.02) / 2 = 0.015; 2 × 0.4 + 0.6 = 1.4
case("v-blend-small", construct="blend", policy="blend", facts={"q1": 1, "q2": 1, "q3": 1, "bonus_h1": "0.01",
                                                                  "bonus_h2": "0.02"},
     values={"annual_score": "1", "average_bonus": "0.015", "with_parts": "1.4"})

# ---- shared ladders (docs/language.md "Shared ladders") --------------------------------------
shared("shared_ladder", '''\
policy shared_ladder_example

ladder rate_steps "比率阶梯":
    minus 2 per full 5% below
    plus 0.5 per full 1% above
    cite "每少5%,扣2分,达到标准,每超1%,加0.5分"

evaluation quarterly:
    fact proposals_excellent: count
    fact proposals_total: count
    fact projects_won: count
    fact projects_supported: count
    scorecard kpi total 40:
        item proposal_excellence "售前优秀方案率" weight 20:
            ladder proposals_excellent / proposals_total standard 90% using rate_steps, if none: standard
            floor 0
        item project_success "项目支持成功率" weight 20:
            ladder projects_won / projects_supported standard 85% using rate_steps, if none: standard
                cite "不纳入知识供献KPI"
            floor 0
''')
SL = "shared_ladder"
# 17/20 = 85%: one step below 90% -> 18; 7/9: one full step below 85% -> 18; 36
case("v-shared-ladder-doc", construct="shared ladders", policy=SL, facts={
    "proposals_excellent": 17, "proposals_total": 20, "projects_won": 7, "projects_supported": 9},
     values={"proposal_excellence": "18", "project_success": "18", "kpi": "36"})
# 20/20 = 100%: ten 1% steps above 90% -> 25; 0/0 keeps 20: 45
case("v-shared-ladder-no-projects", construct="shared ladders", policy=SL, facts={
    "proposals_excellent": 20, "proposals_total": 20, "projects_won": 0, "projects_supported": 0},
     values={"proposal_excellence": "25", "project_success": "20", "kpi": "45"})
# 18/20 = 90% on the standard -> 20; 7/8 = 87.5%: 2 full 1% steps above -> 21; 41
case("v-shared-ladder-above", construct="shared ladders", policy=SL, facts={
    "proposals_excellent": 18, "proposals_total": 20, "projects_won": 7, "projects_supported": 8},
     values={"proposal_excellence": "20", "project_success": "21", "kpi": "41"})
# 0/20 = 0%: 90% below = 18 steps × 2 = 36 -> -16, floor 0 -> 0; 1/10 = 10%: 75% below = 15 steps -> -10 -> 0
case("v-shared-ladder-floor", construct="shared ladders", policy=SL, facts={
    "proposals_excellent": 0, "proposals_total": 20, "projects_won": 1, "projects_supported": 10},
     values={"proposal_excellence": "0", "project_success": "0", "kpi": "0"})

# ---- gates (docs/language.md "Gates") ---------------------------------------------------------
shared("gates", '''\
policy gates

evaluation e:
    fact rollout "经过培训推广环节": record of boolean (sales_training, sales_tools)
    fact comparison_updated: boolean
    fact eligible: boolean
    scorecard kpi_score total 40:
        item sales_training "产品销售人员能力培训" weight 20, knowledge:
            cite "未按计划完成产品销售人员培训扣5分"
        item sales_tools "产品销售工具" weight 10, knowledge, bonus:
            minus 5 if not comparison_updated
        item attendance weight 10, bonus:
            plus 1
        gate knowledge items: count only if rollout[item] else "该项工作未经过培训推广环节"
            cite "注:知识供献奖的所有指标完成项,必须经过培训推广环节,才能计入奖金"
        gate bonus items: count only if eligible
''')
GT = "gates"
# training 20 (rolled out); tools 10 - 5 = 5, not rolled out -> 0; attendance 11 (eligible): 31
case("v-gates-doc", construct="gates", policy=GT, facts={
    "rollout": {"sales_training": True, "sales_tools": False}, "comparison_updated": False, "eligible": True},
     values={"sales_training": "20", "sales_tools": "0", "attendance": "11", "kpi_score": "31"})
# all rolled out, eligible: 20 + 10 + 11 = 41
case("v-gates-all-count", construct="gates", policy=GT, facts={
    "rollout": {"sales_training": True, "sales_tools": True}, "comparison_updated": True, "eligible": True},
     values={"sales_training": "20", "sales_tools": "10", "attendance": "11", "kpi_score": "41"})
# not eligible: the `bonus` gate sets tools and attendance to 0 (tools passes `knowledge` first): 20
case("v-gates-second-tag-fails", construct="gates", policy=GT, facts={
    "rollout": {"sales_training": True, "sales_tools": True}, "comparison_updated": True, "eligible": False},
     values={"sales_training": "20", "sales_tools": "0", "attendance": "0", "kpi_score": "20"})
# nothing rolled out, not eligible: 0
case("v-gates-none-count", construct="gates", policy=GT, facts={
    "rollout": {"sales_training": False, "sales_tools": False}, "comparison_updated": False, "eligible": False},
     values={"kpi_score": "0"})

# ============================================================================================
# Value cases with a policy of their own
# ============================================================================================

# ---- file layout, header, literals -----------------------------------------------------------
case("v-layout-comments-and-continuation", construct="file layout and comments", policy='''\
# 销售奖金办法: comment lines may precede the header.

policy layout_example "版式示例"   # a comment after code

evaluation e:
    fact revenue "回款": money
    fact target "目标": money

    # Inside parentheses a formula may span several lines.
    let completion = (revenue
                      - target * 70%) / (target * 30%)
    output note = "a # inside quotes is text; \\"quoted\\" words"
''', facts={"revenue": "85000", "target": "100000"},
     values={"completion": "0.5", "note": 'a # inside quotes is text; "quoted" words'})
# (85000 - 70000) / 30000 = 0.5
case("v-header-label-and-version", construct="the policy header", policy='''\
policy u8_presales "售前支持部绩效考核办法" version "2026.1"

evaluation e:
    output answer = 42
''', facts={}, values={"answer": "42"})
case("v-header-bare", construct="the policy header", policy="policy bonus_rules\n\nevaluation e:\n    output one = 1\n",
     facts={}, values={"one": "1"})
case("v-policy-with-bom", construct="file layout and comments", policy=None,
     policy_bytes="\ufeffpolicy bom\n\nevaluation e:\n    output two = 1 + 1\n".encode("utf-8"),
     facts={}, values={"two": "2"})
case("v-crlf-line-ends", construct="file layout and comments", policy=None,
     policy_bytes=b"policy crlf\r\n\r\nevaluation e:\r\n    fact x: number\r\n    output y = x * 2\r\n",
     facts={"x": "1.5"}, values={"y": "3"})
case("v-tab-indent", construct="file layout and comments", policy=None,
     policy_bytes=b"policy tabs\n\nevaluation e:\n\tfact x: number\n\toutput y = x + 1\n",
     facts={"x": 1}, values={"y": "2"}, description="a tab counts as eight columns: both lines are one block")
case("v-quoted-escapes", construct="file layout and comments", policy='''\
policy escapes

evaluation e:
    output backslash = "a\\\\b"
    output tab = "a\\tb"
    output newline = "a\\nb"
''', facts={}, values={"backslash": "a\\b", "tab": "a\tb", "newline": "a\nb"})
case("v-unicode-names", construct="file layout and comments", policy='''\
policy 奖金

evaluation 季度:
    fact 基本工资: money >= 0
    output 季度奖金 = 基本工资 * 40%
''', facts={"基本工资": "36000"}, values={"季度奖金": "14400"})
# 20, 0.5, 0.85, 10万 = 100000, 800, 100000 + 800 = 100800, -2, 12.5% = 0.125, 1.5万 = 15000, 99.5元 = 99.5
case("v-literals", construct="literals", policy=evaluation('''\
let fixed_points = 20
let half_point = 0.5
let standard_rate = 85%
let threshold = 10万
let allowance = 800元
let grade = "开拓型"
let eligible = true
let not_eligible = false
let deduction = -2
let eighth = 12.5%
let wan_fraction = 1.5万
let yuan_fraction = 99.5元
output check = threshold + allowance
'''), facts={}, values={"fixed_points": "20", "half_point": "0.5", "standard_rate": "0.85", "threshold": "100000",
                        "allowance": "800", "grade": "开拓型", "eligible": True, "not_eligible": False,
                        "deduction": "-2", "eighth": "0.125", "wan_fraction": "15000", "yuan_fraction": "99.5",
                        "check": "100800"})
# a 40-digit literal is allowed: 0.1234567890123456789012345678901234567890 × 10
case("v-forty-digit-literal", construct="literals", policy=evaluation(
    "output x = 0.123456789012345678901234567890123456789 * 10\n"), facts={},
     values={"x": "1.23456789012345678901234567890123456789"})

# ---- units (docs/language.md "Units and types") ----------------------------------------------
# 90000 / 100000 = 0.9; max(10000, 0) = 10000; 90000 × 0.02 = 1800; 1800 / 10000 = 0.18
case("v-units", construct="units and types", policy=evaluation('''\
fact revenue: money
fact target: money
fact bonus_rate: percent
let completion = revenue / target
let shortfall = max(target - revenue, 0)
let bonus = revenue * bonus_rate
let bonus_in_wan = bonus / 1万
let per_yuan = revenue / 1元
let money_squared = revenue * revenue / target
output half = revenue / 2
'''), facts={"revenue": "90000", "target": "100000", "bonus_rate": "0.02"},
     values={"completion": "0.9", "shortfall": "10000", "bonus": "1800", "bonus_in_wan": "0.18", "per_yuan": "90000",
             "money_squared": "81000", "half": "45000"})
# 90000 × 90000 / 100000 = 81000

# ---- let, output and clauses -----------------------------------------------------------------
# completion 1.5 -> cap 120% = 1.2; 36000.00 × 0.4 × 1.2 × 78 / 100 = 13478.4 -> 13478.40
case("v-clauses-on-one-line-and-below", construct="values: let and output", policy=evaluation('''\
fact base_salary "季度基本工资": money >= 0
fact dept_completion: percent
fact kpi_score: number in 0..120
let completion "部门收入目标完成率" = dept_completion, floor 0, cap 120%
output quarterly_bonus "季度奖金" = base_salary * 40% * completion * kpi_score / 100
    round half up to 0.01
    cite "季度奖金总额=季度基本工资总额×40%×部门收入目标完成率×得分"
'''), facts={"base_salary": "36000.00", "dept_completion": "1.5", "kpi_score": 78},
     values={"completion": "1.2", "quarterly_bonus": "13478.40"})
# -0.2 -> floor 0: 0 -> 0 × 36000 = 0 -> 0.00
case("v-floor-binds", construct="clauses: floor", policy=evaluation('''\
fact base_salary: money >= 0
fact dept_completion: percent
let completion = dept_completion, floor 0, cap 120%
output pay = base_salary * completion
    round half up to 0.01
'''), facts={"base_salary": "36000", "dept_completion": "-0.2"}, values={"completion": "0", "pay": "0.00"})
# cap as a formula: 50000 × 10% = 5000 > 36000 × ... no: cap base_salary * 2 = 2000 × 2 = 4000 -> 4000
case("v-cap-formula", construct="clauses: cap", policy=evaluation('''\
fact base_salary: money >= 0
fact sales: money >= 0
output bonus = sales * 10%
    cap base_salary * 2
'''), facts={"base_salary": "2000", "sales": "50000"}, values={"bonus": "4000"})
# 30000 × 10% = 3000 < 4000: the cap does not bind
case("v-cap-formula-not-binding", construct="clauses: cap", policy=evaluation('''\
fact base_salary: money >= 0
fact sales: money >= 0
output bonus = sales * 10%
    cap base_salary * 2
'''), facts={"base_salary": "2000", "sales": "30000"}, values={"bonus": "3000"})
# clauses in written order: 7 -> cap 5 -> floor 6 = 6; 7 -> floor 6 -> cap 5 = 5
case("v-clause-order", construct="clauses", policy=evaluation('''\
fact x: number
let cap_then_floor = x, cap 5, floor 6
let floor_then_cap = x, floor 6, cap 5
'''), facts={"x": 7}, values={"cap_then_floor": "6", "floor_then_cap": "5"})
# order of evaluation: base = 1 + 1 = 2; doubled 4; total 6 (a formula may read a value defined below)
case("v-order-of-evaluation", construct="order of evaluation", policy=evaluation('''\
fact x: number
output total = doubled + base
let doubled = base * 2
let base = x + 1
'''), facts={"x": 1}, values={"total": "6", "doubled": "4", "base": "2"})

# ---- cite and note ---------------------------------------------------------------------------
CITE_NOTE = evaluation('''\
fact my_hours "个人全年投入时间": number >= 0
fact team_hours "售前部全年投入时间合计": number >= 0
fact pool "年底部门奖金": money >= 0
output pool_share "部门奖金分成" = if team_hours > 0 then pool * my_hours / team_hours else 0
    round half up to 0.01
    cite "该项工作均记入全年的工作汇总表,按照百分比进行年底部门奖金的分成。"
    note "percentage = my_hours / team_hours: company-set"
''')
# 80000 × 300 / 1200 = 20000 -> 20000.00
case("v-cite-and-note", construct="cite and note", policy=CITE_NOTE,
     facts={"my_hours": 300, "team_hours": 1200, "pool": "80000"}, values={"pool_share": "20000.00"})
# no team hours: the `if` guards the division: 0 -> 0.00
case("v-if-guards-division", construct="expressions and operators", policy=CITE_NOTE,
     facts={"my_hours": 0, "team_hours": 0, "pool": "80000"}, values={"pool_share": "0.00"})
# 1000 × 1 / 3 = 333.333… -> 333.33
case("v-round-a-fraction", construct="clauses: round", policy=CITE_NOTE,
     facts={"my_hours": 1, "team_hours": 3, "pool": "1000"}, values={"pool_share": "333.33"})
# 1000 × 2 / 3 = 666.666… -> 666.67
case("v-round-a-fraction-up", construct="clauses: round", policy=CITE_NOTE,
     facts={"my_hours": 2, "team_hours": 3, "pool": "1000"}, values={"pool_share": "666.67"})

# ---- functions (built in) --------------------------------------------------------------------
# 1 + 2 + 0 = 3 violation points; 2 violations; max(3 - 4, 0) = 0; |3 - 4| = 1; min(3, 4, 10) = 3
case("v-builtin-functions", construct="functions", policy=evaluation('''\
fact attendance_violations: list of number in 1..2
fact rule_violations: list of number in 1..10
fact activities_planned: count
fact activities_held: count
let violation_points = sum(attendance_violations) + sum(rule_violations)
let violation_count = count(attendance_violations)
let missed = max(activities_planned - activities_held, 0)
let spread = abs(activities_planned - activities_held)
let smaller = min(activities_planned, activities_held, 10)
'''), facts={"attendance_violations": [1, 2], "rule_violations": [], "activities_planned": 3, "activities_held": 4},
     values={"violation_points": "3", "violation_count": "2", "missed": "0", "spread": "1", "smaller": "3"})
# 2 + 1 + 10 = 13; 2 + ... count 2; max(8 - 1, 0) = 7; |7| = 7; min(8, 1, 10) = 1
case("v-builtin-functions-2", construct="functions", policy=evaluation('''\
fact attendance_violations: list of number in 1..2
fact rule_violations: list of number in 1..10
fact activities_planned: count
fact activities_held: count
let violation_points = sum(attendance_violations) + sum(rule_violations)
let missed = max(activities_planned - activities_held, 0)
let spread = abs(activities_held - activities_planned)
let smaller = min(activities_planned, activities_held, 10)
'''), facts={"attendance_violations": [2, 1], "rule_violations": [10], "activities_planned": 8, "activities_held": 1},
     values={"violation_points": "13", "missed": "7", "spread": "7", "smaller": "1"})

# ---- record access ---------------------------------------------------------------------------
# true and false = false; 3 + 4.5 = 7.5
case("v-record-access", construct="table lookup and record access", policy=evaluation('''\
fact rollout: record of boolean (market_activity, sales_training)
fact scores: record of number (q1, q2)
let both_rolled_out = rollout.market_activity and rollout["sales_training"]
let first_half = scores.q1 + scores.q2
'''), facts={"rollout": {"market_activity": True, "sales_training": False}, "scores": {"q1": 3, "q2": "4.5"}},
     values={"both_rolled_out": False, "first_half": "7.5"})
# a record with bounded values: (90 + 80 + 100) / 3 = 90
case("v-record-bounded", construct="facts: record of", policy=evaluation('''\
fact quarter "季度": integer in 1..4
    cite "考核季度,一至四季度"
fact scores "评分": record of number in 0..100 (self, peer, manager)
let average = (scores.self + scores.peer + scores.manager) / 3
output quarter_shown = quarter
'''), facts={"quarter": 2, "scores": {"self": 90, "peer": 80, "manager": 100}},
     values={"average": "90", "quarter_shown": "2"})
case("f-F110-record-values-bounded", construct="facts: record of", policy=evaluation('''\
fact scores "评分": record of number in 0..100 (self, peer, manager)
let average = (scores.self + scores.peer + scores.manager) / 3
'''), facts={"scores": {"self": 190, "peer": -1, "manager": 100}},
     fact_errors=[("F110", "scores.self"), ("F110", "scores.peer")])

# ---- items, minus/plus, score ----------------------------------------------------------------
ITEMS = evaluation('''\
fact activities_planned: count
fact activities_held: count
fact competitor_analysis_delivered: boolean
scorecard kpi_score:
    item market_activity "市场活动的组织和支持" weight 10, knowledge:
        minus 2 per max(activities_planned - activities_held, 0)
        floor 0
        cite "每少组织一次活动扣2分"
    item floor_too_early weight 10:
        floor 0
        minus 2 per max(activities_planned - activities_held, 0)
    item competitor_analysis "竞争对手分析" weight 10:
        score 0 if not competitor_analysis_delivered
        cite "没有做本项是0分"
    item later_lines_still_apply weight 10:
        score 0 if not competitor_analysis_delivered
        plus 3
    item per_fraction weight 10:
        minus 0.5 per activities_planned / 2
''')
# 8 planned, 1 held: 7 missed × 2 = 14: 10 - 14 = -4 -> floor 0 (after) -> 0; floor before: -4;
# not delivered: 0, 0 + 3 = 3; 0.5 × 8/2 = 2 -> 8; total 0 - 4 + 0 + 3 + 8 = 7
case("v-items-floor-where-written", construct="items", policy=ITEMS,
     facts={"activities_planned": 8, "activities_held": 1, "competitor_analysis_delivered": False},
     values={"market_activity": "0", "floor_too_early": "-4", "competitor_analysis": "0",
             "later_lines_still_apply": "3", "per_fraction": "8", "kpi_score": "7"})
# 3 planned, 4 held: max(-1, 0) = 0: 10; delivered: 10, 13; 0.5 × 1.5 = 0.75 -> 9.25; 10+10+10+13+9.25 = 52.25
case("v-items-nothing-missed", construct="score", policy=ITEMS,
     facts={"activities_planned": 3, "activities_held": 4, "competitor_analysis_delivered": True},
     values={"market_activity": "10", "floor_too_early": "10", "competitor_analysis": "10",
             "later_lines_still_apply": "13", "per_fraction": "9.25", "kpi_score": "52.25"})
# scorecard clauses: 40 - 2×3 = 34; 60 + 10 = 70; 104 -> cap 100 -> round down to 1 = 100; × 10 = 1000
SCORECARD = evaluation('''\
fact late_days: count
scorecard kpi_score "KPI得分" total 100:
    item attendance "出勤" weight 40:
        minus 2 per late_days
    item quality "质量" weight 60:
        plus 10
    cap 100
    round down to 1
output kpi_bonus = kpi_score * 10元
''')
case("v-scorecard-cap-and-round", construct="scorecards", policy=SCORECARD, facts={"late_days": 3},
     values={"attendance": "34", "quality": "70", "kpi_score": "100", "kpi_bonus": "1000"})
# every named value is in the result: items, the scorecard, the output (40 - 2 × 0 = 40; 60 + 10 = 70;
# 110 -> cap 100 -> 100; 100 × 10 = 1000)
case("v-result-has-every-named-value", construct="the result", policy=SCORECARD, facts={"late_days": 0},
     values={"attendance": "40", "quality": "70", "kpi_score": "100", "kpi_bonus": "1000"})
# 40 - 2 × 13 = 14; + 70 = 84 -> round down to 1 = 84; × 10 = 840
case("v-scorecard-below-cap", construct="scorecards", policy=SCORECARD, facts={"late_days": 13},
     values={"attendance": "14", "kpi_score": "84", "kpi_bonus": "840"})
# deductions doc: discipline 20 − 6 − 5 − 4 − 3 = 2; training 20 − 5 + 0.5 = 15.5; s = 17.5
case("v-minus-and-plus", construct="deductions and additions", policy=evaluation('''\
fact late_days: count
fact complaints: count
fact sales_training_on_plan: boolean
fact attendance_violations: list of number in 1..2
fact bonus_points: number
scorecard s:
    item discipline weight 20:
        minus 2 per late_days
        minus 5 if complaints > 2
        minus 1 per complaints if complaints > 0
        minus sum(attendance_violations)
    item training weight 20:
        minus 5 if not sales_training_on_plan
        plus bonus_points
'''), facts={"late_days": 3, "complaints": 4, "sales_training_on_plan": False, "attendance_violations": [1, 2],
             "bonus_points": "0.5"}, values={"discipline": "2", "training": "15.5", "s": "17.5"})
# a negative `per` count reverses the direction: minus 2 per (1 - 3) = +4 -> 14
case("v-negative-per-count", construct="deductions and additions", policy=evaluation('''\
fact planned: count
fact held: count
scorecard s:
    item activity weight 10:
        minus 2 per planned - held
'''), facts={"planned": 1, "held": 3}, values={"activity": "14", "s": "14"})

# ---- aggregates over a list of numbers, several filters ----------------------------------------
# count over with two filters: amounts >= 10 and not "lost": lines 2 and 4 -> 2; sum 20 + 40 = 60
case("v-aggregate-two-filters", construct="aggregates", policy=evaluation('''\
fact deals: list of (amount: number, stage: one of won, lost)
let kept = count over deals
    only if amount >= 10 else "too small"
    only if stage == "won" else "lost"
let kept_total = sum over deals of amount
    only if amount >= 10
    only if stage == "won"
let everything = sum over deals of amount * 2
    cap 150
'''), facts={"deals": [{"amount": 5, "stage": "won"}, {"amount": 20, "stage": "won"},
                       {"amount": 30, "stage": "lost"}, {"amount": 40, "stage": "won"}]},
     values={"kept": "2", "kept_total": "60", "everything": "150"})
# 2 × (5 + 20 + 30 + 40) = 190, capped at 150

# ---- modules and imports (each case brings its own ruleset/) -----------------------------------
MODULE_RULES = '''\
module common "共用规则" version "1"

ladder steps:
    minus 2 per full 5% below
    plus 0.5 per full 1% above

function completion_rate(actual: money, target: money) = (actual - target * 70%) / (target - target * 70%)
    floor 0

bands grades in 0..100:
    "pass" from 60
    "fail" below 60

let base_share = 70%
'''
# completion (2610000 - 2030000) / (2900000 - 2030000) = 580000 / 870000 = 2/3;
# 7/9 ladder with the module's steps: 18; 90.5 -> pass; base_share 0.7 appears in the values
case("v-import-module", construct="modules and imports", policy='''\
policy imports_example

import common

evaluation quarterly:
    fact revenue: money >= 0
    fact target: money > 0
    fact won: count
    fact supported: count
    fact total_score: number in 0..100

    let completion = completion_rate(revenue, target)
    let share = base_share
    scorecard kpi:
        item project_success weight 20:
            ladder won / supported standard 85% using steps, if none: standard
            floor 0
    output grade = grades[total_score]
''', files={"ruleset/common.rules": MODULE_RULES},
     facts={"revenue": "2610000", "target": "2900000", "won": 7, "supported": 9, "total_score": "90.5"},
     values={"completion": "0.6666666666666666666666666667", "project_success": "18", "grade": "pass",
             "share": "0.7", "base_share": "0.7"})
# a module in a subfolder: import common.rates reads ruleset/common/rates.rules: 1000 × 3% = 30
case("v-import-dotted-module", construct="modules and imports", policy='''\
policy dotted
import common.rates

evaluation e:
    fact sales: money
    output commission = sales * rate
''', files={"ruleset/common/rates.rules": "module rates\n\nlet rate = 3%\n"},
     facts={"sales": "1000"}, values={"commission": "30"})
# a module importing another: 100 × 70% × 2 = 140
case("v-module-imports-module", construct="modules and imports", policy='''\
policy chained
import outer

evaluation e:
    fact x: number
    output y = x * doubled_share
''', files={"ruleset/outer.rules": "module outer\nimport inner\n\nlet doubled_share = inner_share * 2\n",
            "ruleset/inner.rules": "module inner\n\nlet inner_share = 70%\n"},
     facts={"x": 100}, values={"y": "140"})

# ---- examples inside a policy (they are checked when the policy loads) ----------------------------
# 10万 × 1% = 1000
case("v-policy-with-examples", construct="examples and kpirules test", policy='''\
policy examples_demo

evaluation quarterly:
    fact sales: money
    fact quarter: integer in 1..4
    output bonus = sales * 1%

example "one percent of sales":
    given sales = 10万
    given quarter = 2
    expect bonus = 1000

example "a fifth quarter is refused" for quarterly:
    given sales = 1元
    given quarter = 5
    expect error at "quarter"
''', facts={"sales": "100000", "quarter": 1}, values={"bonus": "1000"})

# ---- more ladders: `if none: EXPRESSION`, notes among steps, a formula for the standard -----------
LADDER_MORE = evaluation('''\
fact won: count
fact supported: count
fact standard_rate: percent
scorecard s:
    item half_if_none weight 20:
        ladder won / supported standard 85%, if none: 50%
            minus 2 per full 5% below
            note "a company-set reading: no projects counts as 50%"
    item formula_standard weight 10:
        ladder won / supported standard standard_rate + 5%, if none: standard
            minus 1 per started 10% below
            plus 1 per prorated 10% above
    cite "每少5%,扣2分"
    note "the scorecard has no total"
''')
# 0/0: half_if_none uses 50%: 35% below = 7 steps × 2 = 14 -> 6; formula_standard: standard -> 10
case("v-ladder-if-none-expression", construct="ladders", policy=LADDER_MORE,
     facts={"won": 0, "supported": 0, "standard_rate": "0.75"}, values={"half_if_none": "6", "formula_standard": "10",
                                                                        "s": "16"})
# 3/5 = 60%: half_if_none 25% below = 5 steps -> 10; standard 75% + 5% = 80%: 20% below, 2 started steps -> 8
case("v-ladder-standard-formula-below", construct="ladders", policy=LADDER_MORE,
     facts={"won": 3, "supported": 5, "standard_rate": "0.75"}, values={"half_if_none": "10", "formula_standard": "8"})
# 19/20 = 95%: 10% above 85% (no above line): 20; 95% vs 70% + 5% = 75%: 20% above, prorated 2 steps -> 12
case("v-ladder-standard-formula-above", construct="ladders", policy=LADDER_MORE,
     facts={"won": 19, "supported": 20, "standard_rate": "0.7"}, values={"half_if_none": "20", "formula_standard": "12"})
# 81/100 = 81%: standard 75% + 5% = 80%: 1% above = 0.1 step prorated -> 10.1; 4% below 85%: 0 full steps -> 20
case("v-ladder-prorated-small-gap", construct="ladders", policy=LADDER_MORE,
     facts={"won": 81, "supported": 100, "standard_rate": "0.75"}, values={"half_if_none": "20",
                                                                           "formula_standard": "10.1"})
case("e-E313-ladder-without-steps", construct="ladders", policy=evaluation('''\
fact won: count
fact supported: count
scorecard s:
    item x weight 10:
        ladder won / supported standard 85%
            cite "no step lines"
'''), facts={}, policy_errors=[pe("E313", "ladder")])
case("e-E216-using-with-own-steps", construct="shared ladders", policy='''\
policy demo

ladder steps:
    minus 2 per full 5% below

evaluation e:
    fact won: count
    fact supported: count
    scorecard s:
        item x weight 10:
            ladder won / supported standard 85% using steps
                minus 1 per full 1% below
''', facts={}, policy_errors=[pe("E216", "ladder won")])

# ---- a fact named evaluation_date takes precedence over the built-in ---------------------------------
# the fact 2026-12-01 picks the 12% row: 1000 × 12% = 120 (no as-of date needed)
case("v-evaluation-date-fact", construct="effective-dated tables", policy='''\
policy dated

table base_rate (day) -> percent:
    from 2026-01-01 -> 10%
    from 2026-10-01 -> 12%

evaluation e:
    fact evaluation_date: date
    fact salary: money
    output extra = salary * base_rate[evaluation_date]
''', facts={"evaluation_date": "2026-12-01", "salary": "1000"}, values={"extra": "120"})
# as of 2026-09-30, the last day of the 10% version: 1000 × 10% = 100
case("v-as-of-last-day-of-a-version", construct="effective-dated tables", policy="year_end", as_of="2026-09-30",
     facts={"salary": "1000"}, values={"extra": "100"})

# ---- notes and cites in every place they are allowed ------------------------------------------------
# 1000 × 15% = 150
case("v-notes-everywhere", construct="cite and note", policy='''\
policy notes

table split (quarter) -> percent:
    1 -> 15%
    2 -> 25%
    note "company-set split"
    cite "季度任务分解"

function twice(x: number) = x * 2, note "doubled"

evaluation e:
    fact quarter: integer in 1..2
        note "the quarter of the year"
    fact revenue: money
    let share = revenue * split[quarter], note "first note"
        cite "first cite"
    output doubled = twice(2)
''', facts={"quarter": 1, "revenue": "1000"}, values={"share": "150", "doubled": "4"})

# ---- effective-from versions, keywords as names -------------------------------------------------
# `total`, `standard`, `from`, `weight` are keywords only inside statements: 3 + 4 = 7
case("v-soft-keywords-as-names", construct="reserved keywords", policy=evaluation('''\
fact total: number
fact standard: number
let weight = total + standard
output from = weight * 1
'''), facts={"total": 3, "standard": 4}, values={"weight": "7", "from": "7"})

# ============================================================================================
# Policy errors: every diagnostic code of docs/diagnostics.md
# ============================================================================================

# Positions: docs/diagnostics.md shows one example per code; where a case draws a code in another
# form, the position follows the same rule as the documented one where there is one (a name, an
# expression, a clause). Where the docs say nothing, the position is the one kpirules 0.1 reports,
# reviewed by hand and marked `(reported position)`: E202, E214, E215 of a fact, an evaluation, a
# table or an example point at the start of the statement; E208 of a module at its header; E210 of
# a fact bound or a recursive call at the reference; E205 of `record["key"]` at the key.

def policy_error(name, code, text, marker, nth=1, *, construct, extra=None, **kw):
    """A policy that does not load, with one error (`extra`: more expected errors, in order)."""
    errors = [pe(code, marker, nth)] + (extra or [])
    case(f"e-{code}-{name}", construct=construct, policy=text, facts={}, policy_errors=errors, **kw)


# ---- E0xx files ---------------------------------------------------------------------------------
E001_LINES = ['policy demo version "1"', "", "evaluation quarterly:", "    fact sales: money",
              "    output bonus = sales * 1%"] + [f"    output extra_{i} = missing_{i}" for i in range(55)]
E001_TEXT = "\n".join(E001_LINES) + "\n"
# each E201 at the unknown name, after `= `
case("e-E001-too-many-diagnostics", construct="diagnostics", policy=E001_TEXT, facts={},
     policy_errors=[("E201", At(f"= missing_{i}\n", offset=2)) for i in range(50)] + [pe("E001")],
     description="55 unknown names: the first 50 are shown, then E001 (no position) counts the rest")
case("e-E002-policy-missing", construct="diagnostics", policy=None, policy_path="missing.rules", facts={},
     policy_errors=[pe("E002")], description="the policy file does not exist (E002 has no position)")
case("e-E003-latin1", construct="file layout and comments", policy=None,
     policy_bytes='policy demo version "1"\n# Gehalt für Vertrieb\n'.encode("latin-1"), facts={},
     policy_errors=[("E003", (2, 11))], description="just after `# Gehalt f`, the last character that could be read")
case("e-E003-gbk", construct="file layout and comments", policy=None,
     policy_bytes='policy demo\n\n# 奖金办法\n'.encode("gbk"), facts={},
     policy_errors=[("E003", (3, 3))], description="GBK bytes after `# `")
case("e-E106-too-large", construct="diagnostics", policy='policy demo version "1"\n',
     policy_padding=("# padding\n", 200_001), facts={}, policy_errors=[("E106", (1, 1))],
     description="the policy file has more than 2,000,000 characters")

# ---- E1xx syntax ------------------------------------------------------------------------------------
policy_error("missing-weight", "E100", evaluation('''\
fact errors: count
scorecard score total 10:
    item accuracy 10:
        minus 1 per errors
output result = score
'''), "10:", nth=2, construct="items")
policy_error("comparison-then-operator", "E100", evaluation('''\
fact a: number
output x = 1 < a +
'''), "\n", nth=5, construct="expressions and operators")
policy_error("keyword-in-formula", "E100", evaluation('''\
fact won: number
output x = won + count
'''), "\n", nth=5, construct="reserved keywords")
policy_error("exponent-literal", "E100", evaluation('''\
output x = 1e5
'''), "e5", construct="literals")
policy_error("space-before-suffix", "E100", evaluation('''\
output x = 10 万
'''), "万", construct="literals")
policy_error("missing-formula", "E100", evaluation('''\
output x =
fact a: number
'''), "\n", nth=4, construct="values: let and output")
policy_error("curly-quote", "E101", 'policy demo version “2026.1”\n', "“", construct="the policy header")
policy_error("stray-character", "E101", evaluation('''\
fact a: number
output x = a $ 2
'''), "$", construct="expressions and operators")
policy_error("ends-after-colon", "E102", 'policy demo version "1"\n\nevaluation quarterly:', "\n", nth=2,
             construct="evaluations")
CASES[-1]["policy_errors"][0][1].offset = len("evaluation quarterly:") + 1
policy_error("bad-dedent", "E103", evaluation('''\
fact sales: money
let base = sales * 40%
'''), "\n", nth=4, construct="file layout and comments")
CASES[-1]["policy"] += "  output bonus = base\n"
CASES[-1]["policy_errors"][0] = ("E103", (6, 3))
policy_error("something-under-a-fact", "E103", evaluation('''\
fact sales: money
    floor 0
output bonus = sales
'''), "floor", construct="facts")
policy_error("deep-brackets", "E104", evaluation("fact sales: money\noutput bonus = " + "(" * 65 + "sales" + ")" * 65),
             "(", nth=65, construct="expressions and operators")
policy_error("long-literal", "E105", evaluation("fact sales: money\noutput bonus = sales * 0." + "1" * 41),
             "0.111", construct="literals")
policy_error("unterminated-text", "E107", evaluation('''\
fact sales "销售收入: money
output bonus = sales * 1%
'''), '"销售', construct="file layout and comments")
policy_error("unclosed-bracket", "E108", evaluation('''\
fact sales: money
fact cost: money
output margin = (sales - cost / sales
output bonus = margin * 1元
'''), "(", construct="expressions and operators")
policy_error("unclosed-square-bracket", "E108", evaluation('''\
fact q: integer in 1..2
output x = split[q
'''), "[", construct="table lookup and record access",
             description="a `[` never closed in a lookup")
CASES[-1]["policy"] = 'policy demo\n\ntable split (q) -> percent: 1 -> 10%; 2 -> 20%\n' + CASES[-1]["policy"][len("policy t\n"):]

# ---- E2xx names and structure ---------------------------------------------------------------------
policy_error("misspelt-fact", "E201", evaluation('''\
fact projects_won: count
fact projects_supported: count
output success = projets_won / projects_supported
'''), "projets_won", construct="units and types")
policy_error("fact-in-function-body", "E201", '''\
policy demo

function f(x: number) = x + y

evaluation e:
    fact y: number
    output z = f(y)
''', "y\n", construct="declared functions")
policy_error("misspelt-table", "E201", evaluation('''\
fact q: integer in 1..2
output x = splt[q]
'''), "splt", construct="tables")
policy_error("let-twice", "E202", evaluation('''\
fact sales: money
let bonus = sales * 1%
output bonus = sales * 2%
'''), "bonus", nth=2, construct="values: let and output")
policy_error("fact-twice", "E202", evaluation('''\
fact sales: money
fact sales: money
output bonus = sales * 2%
'''), "fact", nth=2, construct="facts")
policy_error("evaluation-twice", "E202", '''\
policy demo

evaluation e:
    output a = 1

evaluation e:
    output b = 2
''', "evaluation", nth=2, construct="evaluations")
policy_error("table-and-fact", "E202", '''\
policy demo

table rate (k) -> percent: 1 -> 1%

evaluation e:
    fact rate: number
    output a = 1
''', "fact rate", construct="tables")
policy_error("misspelt-enum", "E203", evaluation('''\
fact role: one of senior, assistant
fact sales: money
output bonus = if role == "senoir" then sales * 2% else sales * 1%
'''), '"senoir"', construct="facts: one of")
policy_error("unknown-function", "E204", evaluation('''\
fact sales: money
output bonus = maxx(sales * 1%, 100元)
'''), "maxx", construct="functions")
policy_error("sqrt-is-not-a-function", "E204", evaluation('''\
fact sales: money
output bonus = sqrt(sales)
'''), "sqrt", construct="functions")
policy_error("record-key", "E205", evaluation('''\
fact rollout: record of boolean (sales_tools, sales_training)
fact sales: money
output bonus = if rollout.sales_tool then sales * 1% else 0元
'''), "rollout.sales_tool", construct="table lookup and record access")
policy_error("record-key-in-brackets", "E205", evaluation('''\
fact scores: record of number (q1, q2)
output x = scores["q3"]
'''), '"q3"', construct="table lookup and record access")
policy_error("gate-item-not-a-key", "E205", evaluation('''\
fact rollout: record of boolean (training)
fact missed: count
scorecard score total 20:
    item training weight 10, knowledge:
        minus 2 per missed
    item tools weight 10, knowledge:
        minus 1 per missed
    gate knowledge items: count only if rollout[item]
output result = score
'''), "rollout[item]", construct="gates")
policy_error("gate-tag-unused", "E206", evaluation('''\
fact rollout: record of boolean (training)
fact missed: count
scorecard score total 10:
    item training weight 10, knowlege:
        minus 2 per missed
    gate knowledge items: count only if rollout[item]
output result = score
'''), "gate", construct="gates")
policy_error("item-outside-gate", "E207", evaluation('''\
fact sales: money
output bonus = if item then sales else 0元
'''), "item", construct="gates")
policy_error("module-not-found", "E208", '''\
policy demo version "1"
import no_such_module_anywhere

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%
''', "import", construct="modules and imports")
policy_error("module-holds-evaluation", "E208", '''\
policy demo
import bad

evaluation e:
    output x = 1
''', "import", construct="modules and imports",
             files={"ruleset/bad.rules": "module bad\n\nevaluation inner:\n    output y = 2\n"})
CASES[-1]["policy_errors"] = [pe("E208", "module", file="ruleset/bad.rules")]
policy_error("importing-a-policy", "E208", '''\
policy demo
import other

evaluation e:
    output x = 1
''', "import", construct="modules and imports",
             files={"ruleset/other.rules": "policy other\n\nevaluation e:\n    output y = 2\n"})
policy_error("output-at-top-level", "E209", '''\
policy demo version "1"

output rate = 1%

evaluation quarterly:
    fact sales: money
    output bonus = sales * rate
''', "rate", construct="top-level let")
policy_error("circular-values", "E210", evaluation('''\
fact sales: money
let target = bonus * 10
let bonus = sales - target
output result = bonus
'''), "target", construct="order of evaluation")
policy_error("fact-bounds-itself", "E210", evaluation('''\
fact a: number <= a
output x = a
'''), "a\n", construct="facts: constraints")
policy_error("recursive-function", "E210", '''\
policy demo

function f(x: number) = f(x - 1)

evaluation e:
    fact y: number
    output z = f(y)
''', "f(x - 1)", construct="declared functions")
policy_error("no-evaluation", "E211", 'policy demo version "1"\n\nlet rate = 1%\n', "policy", construct="evaluations")
policy_error("bound-reads-value", "E212", evaluation('''\
fact sales: money
let target = sales * 2
fact refunds: money <= target
output bonus = (sales - refunds) * 1%
'''), "target\n", nth=1, construct="facts: constraints")
CASES[-1]["policy_errors"] = [pe("E212", "<= target")]
CASES[-1]["policy_errors"][0][1].offset = 3
case("e-E213-import-cycle", construct="modules and imports", policy='''\
policy demo version "1"
import rates

evaluation quarterly:
    fact sales: money
    output bonus = sales * base_share
''', files={"ruleset/rates.rules": "module rates\nimport steps\n\nlet base_share = 70%\n",
            "ruleset/steps.rules": "module steps\nimport rates\n\nladder rate_steps:\n    minus 2 per full 5% below\n"},
     facts={}, policy_errors=[pe("E213", "import rates", file="ruleset/steps.rules")])
policy_error("example-unknown-value", "E214", '''\
policy demo version "1"

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%

example "one percent of sales":
    given sales = 10万
    expect bonnus = 1000
''', "expect", construct="examples and kpirules test")
policy_error("example-unknown-fact", "E214", '''\
policy demo

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%

example "a fact the evaluation does not declare":
    given sales = 10万
    given region = "north"
    expect bonus = 1000
''', "example", construct="examples and kpirules test")
policy_error("example-expects-nothing", "E214", '''\
policy demo

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%

example "nothing expected":
    given sales = 10万
''', "example", construct="examples and kpirules test")
policy_error("example-unknown-evaluation", "E214", '''\
policy demo

evaluation quarterly:
    fact sales: money
    output bonus = sales * 1%

example "wrong evaluation" for monthly:
    given sales = 10万
    expect bonus = 1000
''', "example", construct="examples and kpirules test")
policy_error("keyword-as-name", "E215", evaluation('''\
fact won: count
fact lost: count
output count = won + lost
'''), "count =", construct="reserved keywords")
policy_error("keyword-as-fact", "E215", evaluation('''\
fact sum: number
output x = 1
'''), "fact sum", construct="reserved keywords")
policy_error("unknown-shared-ladder", "E216", '''\
policy demo version "1"

ladder rate_steps:
    minus 2 per full 5% below
    plus 0.5 per full 1% above

evaluation quarterly:
    fact won: count
    fact supported: count
    scorecard score total 20:
        item success weight 20:
            ladder won / supported standard 85% using rate_step, if none: standard
    output result = score
''', "rate_step,", construct="shared ladders")

# ---- E3xx types, units and values ----------------------------------------------------------------
policy_error("add-boolean-to-money", "E301", evaluation('''\
fact base_salary: money
fact on_plan: boolean
output bonus = base_salary + on_plan
'''), "base_salary +", construct="units and types")
policy_error("matching-on-a-number", "E301", evaluation('''\
fact n: number matching "[0-9]+"
output x = n
'''), "number matching", construct="facts: matching")
CASES[-1]["policy_errors"][0][1].offset = len("number ")
policy_error("range-on-boolean", "E301", evaluation('''\
fact b: boolean in 0..1
output x = b
'''), "boolean in", construct="facts: constraints")
CASES[-1]["policy_errors"][0][1].offset = len("boolean ")
policy_error("date-plus-number", "E301", evaluation('''\
fact d: date
output x = d + 1
'''), "d + 1", construct="dates and periods")
policy_error("table-without-key", "E301", '''\
policy demo

table split (q) -> percent: 1 -> 10%

evaluation e:
    fact x: money
    output y = x * split
''', "split\n", construct="table lookup and record access")
policy_error("compare-percent-with-money", "E302", evaluation('''\
fact completion: percent
fact sales: money
output bonus = if completion > sales then 100元 else 0元
'''), "completion >", construct="units and types")
policy_error("money-minus-number", "E302", evaluation('''\
fact revenue: money
output x = revenue - 1
'''), "revenue - 1", construct="units and types")
policy_error("money-bound-on-number", "E302", evaluation('''\
fact salary: money >= 100
output x = salary
'''), "100", construct="facts: constraints")
policy_error("money-ladder-points", "E302", evaluation('''\
fact won: count
fact supported: count
scorecard s:
    item success weight 20:
        minus 2元 per won
'''), "2元", construct="deductions and additions")
policy_error("count-as-condition", "E303", evaluation('''\
fact late_days: count
scorecard score total 10:
    item attendance weight 10:
        minus 5 if late_days
output result = score
'''), "late_days\n", construct="deductions and additions")
policy_error("not-of-a-number", "E303", evaluation('''\
fact a: number
output x = not a
'''), "a\n", nth=2, construct="expressions and operators")
CASES[-1]["policy_errors"] = [pe("E303", "a\n")]  # at the operand of `not`
policy_error("abs-two-arguments", "E304", evaluation('''\
fact sales: money
fact cost: money
output gap = abs(sales, cost)
'''), "abs", construct="functions")
policy_error("max-one-argument", "E304", evaluation('''\
fact sales: money
output top = max(sales)
'''), "max", construct="functions")
policy_error("function-arity", "E304", '''\
policy demo

function twice(x: number) = x * 2

evaluation e:
    fact a: number
    output y = twice(a, a)
''', "twice(a", construct="declared functions")
policy_error("number-table-enum-key", "E305", '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 3 -> 30%; 4 -> 20%

evaluation quarterly:
    fact role: one of senior, assistant
    fact target: money
    output quarter_target = target * quarter_split[role]
''', "role]", construct="tables")
policy_error("mixed-keys", "E305", '''\
policy demo

table mixed (k) -> number:
    1 -> 1
    "A" -> 2

evaluation e:
    fact k: number
    output y = mixed[k]
''', "table", construct="tables", extra=[pe("E305", "k]")])
policy_error("money-in-percent-table", "E306", '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 3 -> 30%; 4 -> 20万

evaluation quarterly:
    fact quarter: integer in 1..4
    fact target: money
    output quarter_target = target * quarter_split[quarter]
''', "20万", construct="tables")
policy_error("text-in-number-table", "E306", '''\
policy demo

table t (k) -> number:
    1 -> "one"

evaluation e:
    fact k: integer in 1..1
    output y = t[k]
''', '"one"', construct="tables")
policy_error("missing-enum-row", "E307", '''\
policy demo version "1"

table annual_target (role) -> money:
    senior -> 200万

evaluation quarterly:
    fact role: one of senior, assistant
    output target = annual_target[role]
''', "table", construct="tables")
policy_error("missing-integer-row", "E307", '''\
policy demo

table split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 3 -> 50%

evaluation e:
    fact quarter: integer in 1..4
    output s = split[quarter]
''', "table", construct="tables")
policy_error("round-to-zero", "E308", evaluation('''\
fact sales: money
output bonus = sales * 1.5%
    round half up to 0
'''), "round", construct="clauses: round")
policy_error("only-if-on-a-value", "E309", evaluation('''\
fact sales: money
output bonus = sales * 1.5%
    only if sales >= 10万
'''), "only", construct="aggregates")
policy_error("round-each-on-a-value", "E309", evaluation('''\
fact sales: money
output bonus = sales * 1.5%
    round each half up to 0.01
'''), "round each", construct="aggregates")
policy_error("weights-differ", "E310", evaluation('''\
fact errors: count
fact complaints: count
scorecard score total 100:
    item accuracy weight 60:
        minus 2 per errors
    item service weight 30:
        minus 5 per complaints
output result = score
'''), "score total", construct="scorecards")
policy_error("duplicate-row", "E311", '''\
policy demo version "1"

table quarter_split (quarter) -> percent:
    1 -> 20%; 2 -> 30%; 2 -> 40%; 3 -> 50%

evaluation quarterly:
    fact quarter: integer in 1..3
    fact target: money
    output quarter_target = target * quarter_split[quarter]
''', "2 -> 40%", construct="tables")
policy_error("duplicate-name-row", "E311", '''\
policy demo

table t (role) -> number:
    senior -> 1
    senior -> 2
    assistant -> 3

evaluation e:
    fact role: one of senior, assistant
    output y = t[role]
''', "senior", nth=2, construct="tables")
policy_error("unclosed-group", "E312", evaluation('''\
fact month: text matching "[0-9]{4}-(0[1-9]|1[0-2]"
output period = month
'''), "matching", construct="facts: matching")
policy_error("bad-repeat", "E312", evaluation('''\
fact code: text matching "*abc"
output c = code
'''), "matching", construct="facts: matching")
policy_error("two-below-lines", "E313", evaluation('''\
fact won: count
fact supported: count
scorecard score total 20:
    item success weight 20:
        ladder won / supported standard 85%
            minus 2 per full 5% below
            minus 1 per full 1% below
output result = score
'''), "minus 1", construct="ladders")
policy_error("zero-step", "E314", evaluation('''\
fact won: count
fact supported: count
scorecard score total 20:
    item success weight 20:
        ladder won / supported standard 85%
            minus 2 per full 0% below
output result = score
'''), "0% below", construct="ladders")
policy_error("bands-gap", "E315", '''\
policy demo version "1"

bands grades "五级评定" in 0..100:
    "优秀" from 91
    "良好" from 81 to 90
    "称职" from 71 below 81
    "基本称职" from 60 below 71
    "不称职" below 60

evaluation annual:
    fact total_score: number in 0..100
    output grade = grades[total_score]
''', '"优秀"', construct="bands")
policy_error("weights-not-100", "E316", evaluation('''\
fact q1: number
fact q2: number
fact q3: number
output total = blend(q1 20%, q2 30%, q3 40%)
'''), "blend", construct="blend")
policy_error("total-field-unknown", "E317", evaluation('''\
fact goals: list of (name: text, weight: percent) at most 5 with weights adding up to 100%
output goal_count = count(goals)
'''), "list of", construct="list rules")
policy_error("at-least-above-at-most", "E317", evaluation('''\
fact goals: list of number at least 5 at most 3
output goal_count = count(goals)
'''), "list of", construct="list rules")
policy_error("february-30", "E318", evaluation('''\
fact close_date: date in 2026-01-01..2026-02-30
output late = close_date > 2026-06-30
'''), "2026-02-30", construct="dates and periods")
policy_error("versions-gap", "E319", '''\
policy demo version "1"

table rate (close_date) -> percent:
    from 2026-01-01 until 2026-05-31 -> 1.5%
    from 2026-07-01 -> 2%

evaluation annual:
    fact close_date: date
    output r = rate[close_date]
''', "from 2026-07-01", construct="effective-dated tables")
policy_error("evaluation-versions-overlap", "E319", '''\
policy demo

evaluation annual effective from 2026-01-01 until 2026-12-31:
    output x = 1

evaluation annual effective from 2026-06-01:
    output x = 2
''', "evaluation annual effective from 2026-06-01", construct="versions of an evaluation")

# ---- more syntax and names -----------------------------------------------------------------------------
policy_error("bad-escape", "E107", evaluation('''\
output x = "a\\qb"
'''), "\\q", construct="file layout and comments")  # at the escape (reported position)
policy_error("fullwidth-colon", "E101", '''\
policy demo

evaluation e:
    fact x：number
    output y = x
''', "：", construct="file layout and comments")
policy_error("misspelt-value-in-output", "E201", evaluation('''\
fact sales: money
let base = sales * 40%
output bonus = bse * 2
'''), "bse", construct="values: let and output")
policy_error("two-unknown-names", "E201", evaluation('''\
fact sales: money
output bonus = salse * rat
'''), "salse", construct="units and types", extra=[pe("E201", "rat\n")])
policy_error("percent-fact-in-money-sum", "E302", evaluation('''\
fact sales: money
fact rate: percent
output x = sales + rate
'''), "sales +", construct="units and types")
policy_error("if-branches-differ", "E302", evaluation('''\
fact sales: money
fact flag: boolean
output x = if flag then sales else 1
'''), "if flag", construct="expressions and operators")

# ---- E501: a cite not found in the source document (kpirules check --source) ----------------------
E501_POLICY = '''\
policy demo version "1"

evaluation quarterly:
    fact planned: count
    fact held: count
    scorecard kpi total 10:
        item market_activity "市场活动的组织和支持" weight 10:
            minus 2 per max(planned - held, 0)
            floor 0
            cite "每少组织一次市场活动扣2分"
    output score = kpi
'''
E501_SOURCE = "三、KPI指标及评分标准\n市场活动的组织和支持\n10\n每少组织一次活动扣2分\n"
case("e-E501-cite-not-in-source", construct="cite and note", policy=E501_POLICY, source=E501_SOURCE, facts={},
     cite_errors=[pe("E501", "cite")])
# whitespace is ignored: a cite split by a line break in the source is found; planned 2, held 1: 10 - 2 = 8
case("v-cite-found-across-a-line-break", construct="cite and note", policy=E501_POLICY.replace(
    "每少组织一次市场活动扣2分", "每少组织一次活动扣2分"), source="每少组织一次\n活动扣2分\n",
     facts={"planned": 2, "held": 1}, cite_errors=[], values={"score": "8"})
case("e-E501-punctuation-matters", construct="cite and note", policy=E501_POLICY.replace(
    "每少组织一次市场活动扣2分", "每少组织一次活动, 扣2分"), source=E501_SOURCE, facts={},
     cite_errors=[pe("E501", "cite")])

# ============================================================================================
# Lints: the policy loads, with warnings (and its values)
# ============================================================================================

def lint(name, code, text, marker, facts, values, nth=1, *, construct, files=None, offset=0):
    at = At(marker, nth, offset=offset)
    case(f"w-{code}-{name}", construct=construct, policy=text, facts=facts, values=values,
         policy_warnings=[(code, at)], files=files)


# 10万 × 1% = 1000
lint("fact-never-used", "W401", evaluation('''\
fact sales: money
fact region: text
output bonus = sales * 1%
'''), "fact region", {"sales": "100000", "region": "north"}, {"bonus": "1000"}, construct="facts")
lint("table-never-looked-up", "W402", '''\
policy demo version "1"

table region_factor (region) -> percent:
    north -> 100%
    south -> 90%

evaluation monthly:
    fact revenue: money >= 0
    output bonus = revenue * 2%
''', "table", {"revenue": "1000"}, {"bonus": "20"}, construct="tables")
# 1000 × 2% = 20
lint("value-never-used", "W403", evaluation('''\
fact revenue: money >= 0
let commission = revenue * 1%
output bonus = revenue * 2%
'''), "commission", {"revenue": "1000"}, {"bonus": "20", "commission": "10"}, construct="values: let and output")
lint("module-never-used", "W404", '''\
policy demo version "1"
import grades

evaluation annual:
    fact total_score: number in 0..100
    output passed = total_score >= 60
''', "import", {"total_score": 75}, {"passed": True}, construct="modules and imports",
     files={"ruleset/grades.rules": 'module grades\n\nbands five_grades in 0..100:\n    "pass" from 60\n'
                                    '    "fail" below 60\n'})
# 100000 × 2% = 2000 -> floor 5000 -> 5000 -> cap 3000 -> 3000
lint("floor-above-cap", "W405", evaluation('''\
fact revenue: money
output bonus = revenue * 2%
    floor 5000元
    cap 3000元
'''), "floor", {"revenue": "100000"}, {"bonus": "3000"}, construct="clauses: floor")
# 85 × 100 = 8500 (the cap 20000 can never bind: at most 100 × 100 = 10000)
lint("cap-never-binds", "W406", evaluation('''\
fact score: number in 0..100
output bonus = score * 100元
    cap 20000元
'''), "cap", {"score": 85}, {"bonus": "8500"}, construct="clauses: cap")
# 3 late days × 50 = 150
lint("condition-always-true", "W407", evaluation('''\
fact late_days: count
output deduction = if late_days >= 0 then late_days * 50元 else 0元
'''), "late_days >= 0", {"late_days": 3}, {"deduction": "150"}, construct="expressions and operators")
# 7 / 10 = 0.7
lint("possible-division-by-zero", "W408", evaluation('''\
fact projects_won: count
fact projects_supported: count
output success = projects_won / projects_supported
'''), "projects_won /", {"projects_won": 7, "projects_supported": 10}, {"success": "0.7"},
     construct="expressions and operators")
# 12345 × 1.5% = 185.175 -> 185.18 -> 185
lint("rounded-twice", "W409", evaluation('''\
fact revenue: money >= 0
output bonus = revenue * 1.5%
    round half up to 0.01
    round half up to 1
'''), "round half up to 1", {"revenue": "12345"}, {"bonus": "185"}, construct="clauses: round")
# 1000 × 3 = 3000
lint("rate-without-percent", "W410", evaluation('''\
fact sales "销售额": money >= 0
output commission "销售提成" = sales * 3
'''), "sales * 3", {"sales": "1000"}, {"commission": "3000"}, construct="literals")

# ============================================================================================
# Evaluation errors (R001): valid facts, a value that cannot be computed
# ============================================================================================

def r001(name, text, facts, marker, nth=1, *, construct, policy_name=None, **kw):
    case(f"r-R001-{name}", construct=construct, policy=text, facts=facts,
         evaluation_error=At(marker, nth), **kw)


RATIO = evaluation('''\
fact won: count
fact supported: count
output success = won / supported
''')
r001("division-by-zero", RATIO, {"won": 0, "supported": 0}, "won / supported", construct="expressions and operators")
r001("division-by-zero-nonzero-numerator", RATIO, {"won": 3, "supported": 0}, "won / supported",
     construct="expressions and operators")
case("v-ratio-when-defined", construct="expressions and operators", policy=RATIO, facts={"won": 3, "supported": 4},
     values={"success": "0.75"})
r001("table-row-missing", '''\
policy demo

table split (quarter) -> percent: 1 -> 15%; 2 -> 25%; 3 -> 30%; 4 -> 30%

evaluation e:
    fact quarter: integer in 1..4
    output next_share = split[quarter + 1]
''', {"quarter": 4}, "split[quarter + 1]", construct="tables")
r001("text-key-missing", '''\
policy demo

table factor (grade) -> number:
    "A" -> 1.2; "B" -> 1

evaluation e:
    fact grade: text
    output f = factor[grade]
''', {"grade": "C"}, "factor[grade]", construct="tables")
r001("outside-the-bands", '''\
policy demo

bands levels in 0..100:
    "high" from 50
    "low" below 50

evaluation e:
    fact score: number
    output level = levels[score]
''', {"score": 150}, "levels[score]", construct="bands")
r001("ladder-without-if-none", evaluation('''\
fact won: count
fact supported: count
scorecard s:
    item success weight 20:
        ladder won / supported standard 85%
            minus 2 per full 5% below
'''), {"won": 0, "supported": 0}, "won / supported", construct="ladders")
r001("ladder-step-zero", evaluation('''\
fact won: count
fact supported: count
fact step: percent
scorecard s:
    item success weight 20:
        ladder won / supported standard 85%, if none: standard
            minus 2 per full step below
'''), {"won": 1, "supported": 2, "step": 0}, "step below", construct="ladders")
r001("date-that-does-not-exist", evaluation('''\
fact day: integer in 1..31
output d = date_of(2026, 2, day)
'''), {"day": 30}, "date_of", construct="dates and periods")
case("v-date-of", construct="dates and periods", policy=evaluation('''\
fact day: integer in 1..31
output d = date_of(2026, 2, day)
'''), facts={"day": 28}, values={"d": "2026-02-28"})
r001("in-a-function", '''\
policy demo

function share(part: number, whole: number) = part / whole

evaluation e:
    fact a: number
    fact b: number
    output s = share(a, b)
''', {"a": 1, "b": 0}, "share(a, b)", construct="declared functions")
r001("before-the-first-version", '''\
policy demo

table rate (day) -> percent:
    from 2026-01-01 -> 1%

evaluation e:
    fact day: date
    output r = rate[day]
''', {"day": "2025-12-31"}, "rate[day]", construct="effective-dated tables")
r001("in-an-aggregate-line", evaluation('''\
fact lines: list of (a: number, b: number)
output total = sum over lines of a / b
'''), {"lines": [{"a": 1, "b": 2}, {"a": 1, "b": 0}]}, "a / b", construct="aggregates")
r001("in-a-value-read-by-another", evaluation('''\
fact a: number
fact b: number
let ratio = a / b
output doubled = ratio * 2
'''), {"a": 1, "b": 0}, "a / b", construct="values: let and output")
r001("in-a-deduction", evaluation('''\
fact a: number
fact b: number
scorecard s:
    item x weight 10:
        minus a / b
'''), {"a": 1, "b": 0}, "a / b", construct="deductions and additions")

# ---- teams: values per member, allocation, ranking (docs/language.md "Teams: values per member") ----
TEAM = evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number in 0..100) at least 1 keyed by id
for each member in members:
    output share = allocate pool by member.score to 0.01
    output place = rank of member.score highest first
output allocated = sum over members of share
output unallocated = pool - allocated
''')
THREE = [{"id": "a", "score": 1}, {"id": "b", "score": 1}, {"id": "c", "score": 1}]
# 100 / 3 = 33.333...: 33.33 x 3 = 99.99; one cent left, equal remainders: the first listed
case("v-team-allocate-equal-remainders", construct="teams", policy=TEAM, facts={"pool": "100", "members": THREE},
     values={"share": {"a": "33.34", "b": "33.33", "c": "33.33"}, "place": {"a": "1", "b": "1", "c": "1"},
             "allocated": "100", "unallocated": "0"})
case("v-team-allocate-ties-to-last", construct="teams", policy=evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output share = allocate pool by member.score to 0.01 ties to last listed
'''), facts={"pool": "100", "members": THREE}, values={"share": {"a": "33.33", "b": "33.33", "c": "33.34"}})
# weights 1, 2, 3 of 6: 16.666.. 33.333.. 50 -> 16.66 + 33.33 + 50.00 = 99.99; the largest remainder
# is a's 0.00666.. (b's is 0.00333.., c's 0): a gets the cent
case("v-team-allocate-largest-remainder", construct="teams", policy=TEAM,
     facts={"pool": "100", "members": [{"id": "a", "score": 1}, {"id": "b", "score": 2}, {"id": "c", "score": 3}]},
     values={"share": {"a": "16.67", "b": "33.33", "c": "50.00"}, "place": {"a": "3", "b": "2", "c": "1"},
             "allocated": "100"})
case("v-team-allocate-all-zero", construct="teams", policy=TEAM,
     facts={"pool": "8000", "members": [{"id": "a", "score": 0}, {"id": "b", "score": 0}]},
     values={"share": {"a": "0.00", "b": "0.00"}, "allocated": "0", "unallocated": "8000"})
# 100.005 / 2 = 50.0025 each -> 50.00 each: 0.005 is below a cent
case("v-team-allocate-below-a-quantum", construct="teams", policy=TEAM,
     facts={"pool": "100.005", "members": [{"id": "a", "score": 5}, {"id": "b", "score": 5}]},
     values={"share": {"a": "50.00", "b": "50.00"}, "unallocated": "0.005"})
case("v-team-single-member", construct="teams", policy=TEAM,
     facts={"pool": "5000.55", "members": [{"id": "solo", "score": 60}]},
     values={"share": {"solo": "5000.55"}, "place": {"solo": "1"}, "allocated": "5000.55"})
RANKS = evaluation('''\
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output r = rank of member.score highest first
    output low = rank of member.score lowest first
    output d = dense rank of member.score highest first
    output o = rank of member.score highest first ties in list order
    output p = percentile of member.score
    output top2 = rank of member.score highest first <= 2
''')
# scores 90, 80, 80, 70, 60: competition 1 2 2 4 5; from the lowest 5 3 3 2 1; dense 1 2 2 3 4;
# in list order 1 2 3 4 5; percentile = lower ones / 4: 4/4, 2/4, 2/4, 1/4, 0/4
case("v-team-rank-kinds", construct="teams", policy=RANKS,
     facts={"members": [{"id": "a", "score": 90}, {"id": "b", "score": 80}, {"id": "c", "score": 80},
                        {"id": "d", "score": 70}, {"id": "e", "score": 60}]},
     values={"r": {"a": "1", "b": "2", "c": "2", "d": "4", "e": "5"},
             "low": {"a": "5", "b": "3", "c": "3", "d": "2", "e": "1"},
             "d": {"a": "1", "b": "2", "c": "2", "d": "3", "e": "4"},
             "o": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"},
             "p": {"a": "1", "b": "0.5", "c": "0.5", "d": "0.25", "e": "0"},
             "top2": {"a": True, "b": True, "c": True, "d": False, "e": False}})
case("v-team-percentile-single", construct="teams", policy=RANKS,
     facts={"members": [{"id": "a", "score": 50}]}, values={"p": {"a": "0"}, "r": {"a": "1"}})
COLUMNS = evaluation('''\
fact members: list of (id: text, score: number, level: one of (P1, P2)) keyed by id
for each member in members:
    let doubled = member.score * 2
    output grade = if doubled >= 150 then "A" else "B"
output a_count = count over members
    only if grade == "A"
output doubled_total = sum over members of doubled
output b_score = members["b"].score
output b_grade = grade["b"]
output p2_total = sum over members of doubled
    only if level == "P2"
''')
# doubled: 160, 140, 150 -> A, B, A; the total 450; P2 lines: a and c, 160 + 150 = 310
case("v-team-columns-in-aggregates-and-by-key", construct="teams", policy=COLUMNS,
     facts={"members": [{"id": "a", "score": 80, "level": "P2"}, {"id": "b", "score": 70, "level": "P1"},
                                    {"id": "c", "score": 75, "level": "P2"}]},
     values={"grade": {"a": "A", "b": "B", "c": "A"}, "a_count": "2", "doubled_total": "450", "b_score": "70",
             "b_grade": "B", "p2_total": "310"})
case("f-F120-repeated-key", construct="teams", policy=TEAM,
     facts={"pool": "1", "members": [{"id": "a", "score": 1}, {"id": "b", "score": 1}, {"id": "a", "score": 2}]},
     fact_errors=[("F120", "members[2].id")])
case("f-F108-empty-team", construct="teams", policy=TEAM, facts={"pool": "1", "members": []},
     fact_errors=[("F108", "members")])
r001("line-lookup-unknown-key", evaluation('''\
fact members: list of (id: text, score: number) keyed by id
output s = members["zz"].score
'''), {"members": [{"id": "a", "score": 1}]}, 'members["zz"]', construct="teams")
r001("allocate-negative-weight", evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output share = allocate pool by member.score to 0.01
'''), {"pool": 10, "members": [{"id": "a", "score": 1}, {"id": "b", "score": -1}]},
     "allocate pool by member.score to 0.01", construct="teams")
policy_error("keyed-by-no-field", "E330", evaluation('''\
fact members: list of (id: text, score: number) keyed by name
output total = sum over members of score
'''), "list of", construct="teams")
policy_error("keyed-list-of-numbers", "E330", evaluation('''\
fact scores: list of number keyed by id
output total = sum(scores)
'''), "list of", construct="teams")
policy_error("for-each-unkeyed", "E331", evaluation('''\
fact members: list of (id: text, score: number)
for each member in members:
    output doubled = member.score * 2
'''), "for each", construct="teams")
policy_error("per-member-aggregate", "E331", evaluation('''\
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output total = sum over members of score
'''), "sum over", construct="teams")
policy_error("per-member-as-single", "E332", evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output share = allocate pool by member.score to 0.01
output first = share * 2
'''), "share * 2", construct="teams")
policy_error("rank-outside-for-each", "E333", evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number) keyed by id
output place = rank of pool highest first
output half = pool / 2
output size = count over members
'''), "rank of", construct="teams")
policy_error("allocate-outside-for-each", "E333", evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number) keyed by id
output part = allocate pool by pool to 0.01
output size = count over members
'''), "allocate", construct="teams")
policy_error("rank-as-a-call", "E204", evaluation('''\
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output place = rank(member.score)
'''), "rank(", construct="teams")
policy_error("field-of-the-whole-list", "E301", evaluation('''\
fact members: list of (id: text, score: number) keyed by id
output s = members.score
'''), "members.score", construct="teams")
policy_error("unknown-field-of-a-member", "E205", evaluation('''\
fact members: list of (id: text, score: number) keyed by id
for each member in members:
    output s = member.scor
'''), "member.scor", construct="teams")

# ---- common plan shapes (docs/language.md "Common plan shapes") ------------------------------------
case("v-shape-pool", construct="shape: pool", policy=evaluation('''\
fact pool: money >= 0
fact members: list of (id: text, score: number in 0..100) at least 1 keyed by id
for each member in members:
    output share = allocate pool by member.score to 0.01
output allocated = sum over members of share
'''), facts={"pool": "1000", "members": [{"id": "x", "score": 2}, {"id": "y", "score": 1}]},
     # 1000 x 2/3 = 666.666.. -> 666.66; 333.333.. -> 333.33; one cent to x (0.00666.. > 0.00333..)
     values={"share": {"x": "666.67", "y": "333.33"}, "allocated": "1000"})
case("v-shape-ranking", construct="shape: ranking", policy=evaluation('''\
fact members: list of (id: text, score: number in 0..100) at least 1 keyed by id
let n = count over members
let a_places = 20% * n
    round ceiling to 1
for each member in members:
    output place = rank of member.score highest first
    output grade = if place <= a_places then "A" else "B"
output a_count = count over members
    only if grade == "A"
'''), facts={"members": [{"id": f"m{i}", "score": s} for i, s in enumerate([70, 95, 95, 60, 80, 85])]},
     # n = 6: ceil(1.2) = 2 A places; 95, 95 share place 1 -> both A; 85 is place 3 -> B
     values={"place": {"m0": "5", "m1": "1", "m2": "1", "m3": "6", "m4": "4", "m5": "3"}, "a_count": "2"})
case("v-shape-mbo", construct="shape: mbo", policy=evaluation('''\
fact target_bonus: money >= 0
fact goals: list of (name: text, weight: percent, attainment: percent in 0%..200%) at least 1 with weight adding up to 100%
let score = sum over goals of weight * min(attainment, 150%)
output bonus = target_bonus * score
    round half up to 0.01
'''), facts={"target_bonus": "10000", "goals": [{"name": "a", "weight": "0.5", "attainment": "0.9"},
                                                {"name": "b", "weight": "0.5", "attainment": "2"}]},
     # 50% x 90% + 50% x min(200%, 150%) = 0.45 + 0.75 = 1.2 -> 12000.00
     values={"score": "1.2", "bonus": "12000.00"})
case("v-shape-draw", construct="shape: draw", policy=evaluation('''\
fact commission: money >= 0
fact draw: money >= 0
fact owed: money >= 0
let available = commission - owed
output payout = max(available, draw)
output owed_next = max(draw - available, 0元)
'''), facts={"commission": "4000", "draw": "5000", "owed": "500"},
     # available 4000 - 500 = 3500 < 5000: the draw is paid, 1500 carried
     values={"payout": "5000", "owed_next": "1500"})
case("v-shape-year-end", construct="shape: year-end", policy=evaluation('''\
fact monthly_salary: money >= 0
fact hire_date: date
let counted_from = max(hire_date, 2026-01-01)
output days_employed = days from counted_from to 2026-12-31
output bonus = monthly_salary * days_employed / 365
    round half up to 1
'''), facts={"monthly_salary": "36500", "hire_date": "2026-12-01"},
     # December: 31 days; 36500 x 31 / 365 = 3100
     values={"days_employed": "31", "bonus": "3100"})
case("v-shape-year-end-whole-year", construct="plan shapes", policy=evaluation('''\
fact monthly_salary: money >= 0
fact hire_date: date
let counted_from = max(hire_date, 2026-01-01)
output days_employed = days from counted_from to 2026-12-31
'''), facts={"monthly_salary": "1", "hire_date": "2020-05-01"}, values={"days_employed": "365"})

# ---- tiers (docs/language.md "Tiers") and assertions ("Assertions") --------------------------------
TIERED = '''\
policy t

tiers rates "提成阶梯" in 0%..200%:
    tier_1 "第一档" from 0% to 100% -> 3%
    tier_2 "第二档" above 100% to 150% -> 5%
    tier_3 "第三档" above 150% to 200% -> 8%

evaluation e:
    fact quota: money > 0
    fact sales: money >= 0
    let credited = min(sales, quota * 2)
    output marginal_total = marginal rates on credited of quota
    output second = marginal rates.tier_2 on credited of quota
    output flat = retroactive rates on credited of quota
'''
# quota 100000, sales 180000: 100000 x 3% = 3000; 50000 x 5% = 2500; 30000 x 8% = 2400 -> 7900;
# retroactive: 180000 is in tier_3: 180000 x 8% = 14400
case("v-tiers-marginal-and-retroactive", construct="shape: marginal tiers", policy=TIERED,
     facts={"quota": "100000", "sales": "180000"},
     values={"marginal_total": "7900", "second": "2500", "flat": "14400"})
# exactly on the 100% edge: tier_1 holds it (`from 0% to 100%`): 100000 x 3% = 3000 both ways
case("v-tiers-on-an-edge", construct="shape: retroactive tiers", policy=TIERED, facts={"quota": "100000", "sales": "100000"},
     values={"marginal_total": "3000", "second": "0", "flat": "3000"})
# above the cap: credited 200000: 3000 + 2500 + 50000 x 8% = 4000 -> 9500; retroactive 16000
case("v-tiers-above-the-cap", construct="tiers", policy=TIERED, facts={"quota": "100000", "sales": "999999"},
     values={"marginal_total": "9500", "flat": "16000"})
MONEY_TIERS = '''\
policy t

tiers bands_in_money in 0元..10万:
    low from 0元 to 5万 -> 1%
    high above 5万 to 10万 -> 2%

evaluation e:
    fact sales: money in 0元..10万
    output fee = marginal bands_in_money on sales
'''
# 50000 x 1% + 10000 x 2% = 500 + 200 = 700
case("v-tiers-in-money", construct="tiers", policy=MONEY_TIERS, facts={"sales": "60000"}, values={"fee": "700"})
r001("tiers-value-outside-the-domain", '''\
policy t

tiers rates in 0%..200%:
    tier_1 from 0% to 100% -> 3%
    tier_2 above 100% to 200% -> 5%

evaluation e:
    fact quota: money > 0
    fact sales: money >= 0
    output c = marginal rates on sales of quota
''', {"quota": "100", "sales": "300"}, "marginal rates on sales of quota", construct="tiers")
policy_error("tiers-gap", "E340", '''\
policy t

tiers rates in 0%..200%:
    tier_1 from 0% to 90% -> 3%
    tier_2 above 100% to 200% -> 5%

evaluation e:
    fact quota: money > 0
    fact sales: money >= 0
    output c = marginal rates on sales of quota
''', "tier_2", construct="tiers")
policy_error("tiers-percent-on-money-without-base", "E341", '''\
policy t

tiers rates in 0%..200%:
    tier_1 from 0% to 100% -> 3%
    tier_2 above 100% to 200% -> 5%

evaluation e:
    fact sales: money >= 0
    output c = marginal rates on sales
''', "sales\n", construct="tiers")
policy_error("range-keyed-table", "E120", '''\
policy t

table rate (attainment) -> percent:
    0%..100% -> 3%

evaluation e:
    fact attainment: percent in 0%..100%
    output r = rate[attainment]
''', "0%..100%", construct="tiers")
policy_error("count-over-inside-a-formula", "E121", evaluation('''\
fact members: list of (id: text)
output headcount = 1 + count over members
'''), "count over", construct="aggregates")
CHAIN = evaluation('''\
fact a: percent
output inside = 60% <= a <= 100%
output outside = not (60% <= a <= 100%)
''')
case("v-chained-comparison", construct="expressions and operators", policy=CHAIN, facts={"a": "0.8"},
     values={"inside": True, "outside": False})
case("v-chained-comparison-edge", construct="expressions and operators", policy=CHAIN, facts={"a": "1"},
     values={"inside": True})
policy_error("chain-both-ways", "E342", evaluation('''\
fact a: number
output x = 1 < a > 3
'''), "1 < a > 3", construct="expressions and operators")
ASSERTS = evaluation('''\
fact pool: money >= 0
fact paid: money >= 0
output left = pool - paid
assert paid <= pool else "the payout exceeds the pool"
''')
case("v-assert-holds", construct="assertions", policy=ASSERTS, facts={"pool": "100", "paid": "60"},
     values={"left": "40"})
r001("assert-fails", ASSERTS, {"pool": "100", "paid": "160"}, "assert", construct="assertions")

# ---- limits (docs/limits.md); E322, E323 and F003 need inputs of megabytes: tests/test_limits.py ----
policy_error("pattern-repeats-too-often", "E320", evaluation('''\
fact code: text matching "[A-Z]{2}-[0-9]{5000}"
output c = code
'''), 'matching "', construct="facts: constraints")
_CHAIN = ['policy demo version "1"', ""] + [f"function step{i}(x: number) = step{i + 1}(x) + 1" for i in range(33)]
_CHAIN += ["function step33(x: number) = x", "", "evaluation monthly:", "    fact base: number",
           "    output total = step0(base)"]
# 34 functions, each calling the next: more than 32
policy_error("function-chain-too-long", "E321", "\n".join(_CHAIN) + "\n", "step0(x", construct="declared functions")
LIMITS = evaluation('''\
fact note: text
fact scores: list of number
fact extra: record of number (a, b)
output n = count(scores)
''')
case("f-F115-text-too-long", construct="facts", policy=LIMITS,
     facts={"note": "x" * 10_001, "scores": [], "extra": {"a": 1, "b": 2}}, fact_errors=[("F115", "note")])
case("f-F116-list-too-long", construct="list rules", policy=LIMITS,
     facts={"note": "", "scores": [0] * 10_001, "extra": {"a": 1, "b": 2}}, fact_errors=[("F116", "scores")])
case("f-F117-too-many-keys", construct="facts", policy=LIMITS,
     facts={"note": "", "scores": [], "extra": {"a": 1, "b": 2, **{f"k{i}": 0 for i in range(1000)}}},
     fact_errors=[("F117", "extra")])
# 101 bad entries: the first 100 are reported, then F118 counts the rest
case("f-F118-violations-past-the-first-hundred", construct="facts", policy=LIMITS,
     facts={"note": "", "scores": ["x"] * 101, "extra": {"a": 1, "b": 2}},
     fact_errors=[("F103", f"scores[{i}]") for i in range(100)] + [("F118", "$")])
case("f-F119-lone-surrogate", construct="facts", policy=LIMITS,
     raw_facts='{"note": "ab\\ud800", "scores": [], "extra": {"a": 1, "b": 2}}', fact_errors=[("F119", "note")])


# The sections of docs/language.md the short labels above stand for (a case's `construct` is the
# section's title; "Diagnostics" is docs/diagnostics.md: files too large, missing, too many problems).
CONSTRUCTS = {
    "a first policy": "A first policy",
    "aggregates": "Aggregates: `sum over` and `count over`",
    "bands": "Bands",
    "blend": "Weighted average: `blend`",
    "cite and note": "`cite` and `note`",
    "clauses": "Clauses: `floor`, `cap`, `round`, `cite`",
    "clauses: cap": "Clauses: `floor`, `cap`, `round`, `cite`",
    "clauses: floor": "Clauses: `floor`, `cap`, `round`, `cite`",
    "clauses: round": "Clauses: `floor`, `cap`, `round`, `cite`",
    "dates and periods": "Dates and periods",
    "declared functions": "Declared functions: `function`",
    "deductions and additions": "Deductions and additions: `minus` and `plus`",
    "diagnostics": "Diagnostics",
    "effective-dated tables": "Effective-dated tables: versions `from DATE`",
    "evaluations": "Evaluations",
    "examples and kpirules test": "Examples and `kpirules test`",
    "expressions and operators": "Expressions and operators",
    "facts": "Facts",
    "facts: constraints": "Constraints",
    "file layout and comments": "File layout and comments",
    "functions": "Functions",
    "gates": "Gates",
    "items": "Items",
    "ladders": "Ladders",
    "list rules": "List rules: `at least`, `at most`, `adding up to`",
    "literals": "Literals",
    "modules and imports": "Modules and imports",
    "order of evaluation": "Order of evaluation",
    "reserved keywords": "Reserved keywords",
    "rounding modes": "Rounding modes",
    "scorecards": "Scorecards",
    "score": "Overriding a score: `score`",
    "shared ladders": "Shared ladders: `ladder NAME:` and `using`",
    "table lookup and record access": "Table lookup and record access",
    "tables": "Tables",
    "the policy header": "The policy header",
    "top-level let": "Top-level `let`",
    "units and types": "Units and types",
    "values: let and output": "Values: `let` and `output`",
    "versions of an evaluation": "Versions of a whole evaluation: `effective from`",
    "the result": "What the result contains",
    "teams": "Teams: values per member",
    "tiers": "Tiers",
    "shape: marginal tiers": "Marginal tiers (超额累进提成)",
    "shape: retroactive tiers": "Retroactive tiers (全额累进提成)",
    "assertions": "Assertions",
    "plan shapes": "Common plan shapes",
    "shape: pool": "A pool shared by a team (团队奖金池)",
    "shape: ranking": "Ranking and a forced distribution (强制分布)",
    "shape: mbo": "Management by objectives (目标管理, MBO)",
    "shape: draw": "A recoverable draw (可追回预付提成)",
    "shape: year-end": "A year-end bonus prorated by days (年终奖)",
}


def construct_title(label: str) -> str:
    if label not in CONSTRUCTS and label.startswith("facts: "):  # a fact's type: integer, money, list of, ...
        return "Types"
    return CONSTRUCTS[label]


# ============================================================================================
# Writing the files
# ============================================================================================

def _policy_text(c: dict) -> str | None:
    if c["policy"] in POLICIES:
        return POLICIES[c["policy"]]
    if c["policy_bytes"] is not None:
        return c["policy_bytes"].decode("utf-8", errors="replace")
    return c["policy"]


def _position(c: dict, where, policy_file: str) -> dict:
    if where is None:
        return {}
    if isinstance(where, tuple):
        line, column = where
        return {"file": policy_file, "line": line, "column": column}
    if where.file is not None:
        text, file = c["files"][where.file], where.file
    else:
        text, file = _policy_text(c), policy_file
    line, column = _locate(text, where)
    return {"file": file, "line": line, "column": column}


def _diagnostics(c: dict, items, policy_file: str) -> list:
    return [{"code": code, **_position(c, where, policy_file)} for code, where in items]


def _facts_bytes(c: dict) -> bytes | None:
    if c["raw_facts"] is not None:
        raw = c["raw_facts"]
        return raw if isinstance(raw, bytes) else raw.encode("utf-8")
    if c["facts"] is None:
        return None
    return (json.dumps(c["facts"], ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write(root: Path = HERE) -> tuple[int, int]:
    """Write policies/ and cases/ under `root` (emptied first): (cases, cases expecting an error)."""
    for folder in ("policies", "cases"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir(parents=True)
    for name, text in POLICIES.items():
        (root / "policies" / f"{name}.rules").write_bytes(text.encode("utf-8"))
    names: set = set()
    errors = 0
    for c in CASES:
        name = c["name"]
        assert name not in names, f"two cases named {name}"
        names.add(name)
        folder = root / "cases" / name
        folder.mkdir()
        if c["policy"] in POLICIES:
            policy_file = f"../../policies/{c['policy']}.rules"
        elif c["policy_path"] is not None:
            policy_file = c["policy_path"]
        else:
            policy_file = "policy.rules"
            data = c["policy_bytes"] if c["policy_bytes"] is not None else c["policy"].encode("utf-8")
            (folder / policy_file).write_bytes(data)
        for rel, text in (c["files"] or {}).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(text.encode("utf-8"))
        facts = _facts_bytes(c)
        if facts is not None:
            (folder / "facts.json").write_bytes(facts)
        if c["source"] is not None:
            (folder / "source.txt").write_bytes(c["source"].encode("utf-8"))
        expect: dict = {}
        if c["values"] is not None:
            expect["values"] = c["values"]
        if c["policy_errors"] is not None:
            expect["policy_errors"] = _diagnostics(c, c["policy_errors"], policy_file)
        if c["policy_warnings"] is not None:
            expect["policy_warnings"] = _diagnostics(c, c["policy_warnings"], policy_file)
        if c["cite_errors"] is not None:
            expect["cite_errors"] = _diagnostics(c, c["cite_errors"], policy_file)
        if c["fact_errors"] is not None:
            expect["fact_errors"] = [{"code": code, "path": path} for code, path in c["fact_errors"]]
        if c["fact_warnings"] is not None:
            expect["fact_warnings"] = [{"code": code, "path": path} for code, path in c["fact_warnings"]]
        if c["evaluation_error"] is not None:
            expect["evaluation_error"] = {"code": "R001", **_position(c, c["evaluation_error"], policy_file)}
        assert expect, f"case {name} expects nothing"
        if any(k in expect for k in ("policy_errors", "fact_errors", "evaluation_error")) or \
                expect.get("cite_errors"):
            errors += 1
        doc = {"schema": SCHEMA, "name": name, "construct": construct_title(c["construct"])}
        if c["description"]:
            doc["description"] = c["description"]
        doc["policy"] = policy_file
        if c["policy_padding"] is not None:
            line, times = c["policy_padding"]
            doc["policy_padding"] = {"line": line, "times": times}
        if c["evaluation_name"] is not None:
            doc["evaluation"] = c["evaluation_name"]
        if c["as_of"] is not None:
            doc["as_of"] = c["as_of"]
        doc["facts"] = "facts.json"
        if c["source"] is not None:
            doc["source"] = "source.txt"
        doc["expect"] = expect
        (folder / "case.json").write_bytes((json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return len(CASES), errors


if __name__ == "__main__":
    total, failing = write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{total} cases ({failing} expecting an error), {len(POLICIES)} shared policies")
