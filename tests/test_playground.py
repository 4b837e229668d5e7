"""The playground served by `kpirules serve` at `/`, end to end in Debian's headless chromium,
driven by Playwright: type a policy error and see it marked where it is; fill the form generated
from the fact declarations and see the bonus; an example fact set one click away; lists with rows
added and removed; a bad fact marked at its field. Screenshots are kept in tests/artifacts/.
The page asks nothing of any host but the kpirules server that served it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install "
                                                              "chromium): the playground was not opened in a browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytest.importorskip("starlette", reason="the serve extra is not installed (pip install '.[serve]')")

from serve_live import ROOT, LiveServer, copy_tree  # noqa: E402

expect = sync_api.expect

ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 20_000  # ms


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tree = copy_tree(tmp_path_factory.mktemp("playground"))
    with LiveServer(tree, reload_interval=0) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.requests = []
    page.problems = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()
    foreign = [u for u in page.requests if not u.startswith((live.url + "/", "data:", "about:"))]
    assert not foreign, f"the page asked other hosts: {foreign}"
    assert not page.problems, page.problems


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"playground-{name}.png"), full_page=False)


def cell(page, name: str):
    return page.locator(f"#values tr[data-value={name}] td.num")


def value_of(page, name: str) -> str:
    return cell(page, name).inner_text()


def open_policy(page, live, name: str) -> None:
    page.goto(f"{live.url}/?policy={name}")
    page.wait_for_selector("body[data-ready=true]")


def test_a_policy_error_is_marked_where_it_is_and_fixing_it_clears_it(page, live):
    open_policy(page, live, "u8_presales")
    page.wait_for_selector("#values tr[data-value=quarterly_bonus]")
    assert page.locator("#check-state").text_content() == "checks"
    # Highlighted: keywords by class, labels as strings, comments.
    assert "evaluation" in page.locator("#highlight .t-declaration").all_inner_texts()
    assert '"售前支持部绩效考核办法"' in page.locator("#highlight .t-string").all_inner_texts()
    assert page.locator("#highlight .t-comment").count() > 10
    lines = page.locator("#source").input_value().count("\n")
    page.locator("#source").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("let oops = nowhere + 1")
    mark = page.locator('#highlight .diag-error[data-code="E201"]')
    mark.wait_for()
    assert mark.inner_text() == "nowhere"
    item = page.locator('#diagnostics li[data-code="E201"]')
    assert f"{lines + 1}:12" in item.inner_text() and "unknown name `nowhere`" in item.inner_text()
    assert "1 error" in page.locator("#check-state").text_content()
    page.keyboard.press("ArrowLeft")  # the caret on the line: its problem is spelled out under the editor
    expect(page.locator("#caret-problem")).to_contain_text("E201")
    page.keyboard.press("End")
    shot(page, "error")
    for _ in range(len("nowhere + 1")):
        page.keyboard.press("Backspace")
    page.keyboard.type("2")
    expect(page.locator("#check-state")).to_have_text(re.compile("^checks"))
    assert page.locator("#highlight .diag-error").count() == 0
    assert page.locator("#diagnostics li.error").count() == 0


def test_fill_the_form_and_see_the_bonus(page, live):
    open_policy(page, live, "")  # not a served policy: the page starts a new one
    page.locator("#policy").select_option("")
    page.wait_for_selector("#fact-sales")
    text = page.locator("#source").input_value()
    assert "fact sales" in text
    label = page.locator('.fact[data-fact="sales"] label').inner_text()
    assert "销售额" in label and "sales" in label
    page.locator("#fact-sales").fill("12345.675")
    expect(cell(page, "bonus")).to_have_text("1234.57")
    statement = page.frame_locator("#statement").locator("body")
    assert "1,234.57" in statement.inner_text()
    # The author changes the rate: the form stays filled, the bonus follows.
    page.locator("#source").fill(text.replace("sales * 10%", "sales * 20%"))
    expect(cell(page, "bonus")).to_have_text("2469.14")
    assert page.locator("#fact-sales").input_value() == "12345.675"
    shot(page, "new-policy")


def test_an_example_one_click_away_then_edit_the_facts(page, live):
    open_policy(page, live, "u8_presales")
    page.wait_for_selector("#values tr[data-value=quarterly_bonus]")
    page.get_by_role("button", name="the shipped example, computed by hand").click()
    expect(cell(page, "quarterly_bonus")).to_have_text("7488.00")
    assert page.locator("#fact-base_salary").input_value() == "36000.00"
    page.locator("#fact-base_salary").fill("18000")
    expect(cell(page, "quarterly_bonus")).to_have_text("3744.00")
    # A list: add a row (one more attendance violation), see the HR score move; remove it again.
    before = value_of(page, "hr_compliance")
    box = page.locator('.fact[data-fact="attendance_violations"]')
    rows = box.locator("tbody tr").count()
    box.get_by_role("button", name="add a row").click()
    box.locator(f'[data-path="attendance_violations[{rows}]"]').fill("2")
    expect(cell(page, "hr_compliance")).not_to_have_text(before)
    box.locator("tbody tr").last.get_by_role("button", name="remove").click()
    expect(cell(page, "hr_compliance")).to_have_text(before)
    # A record: a rollout flag, a checkbox.
    page.locator('[data-path="rollout.sales_tools"]').check()
    expect(cell(page, "sales_tools")).not_to_have_text("0")
    shot(page, "u8")


def test_a_bad_fact_is_marked_at_its_field(page, live):
    open_policy(page, live, "u8_presales")
    page.wait_for_selector("#values tr[data-value=quarterly_bonus]")
    page.locator("#fact-quarter").fill("5")
    page.wait_for_selector("#fact-quarter.bad")
    problem = page.locator('.fact[data-fact="quarter"] .problem').inner_text()
    assert "must be <= 4" in problem
    assert page.locator('#fact-problems li[data-code="F110"]').count() == 1
    # A list of records: the field of the row that is wrong.
    open_policy(page, live, "commission_dated")
    page.wait_for_selector('#values tr[data-value]')
    page.locator('[data-path="projects[0].amount"]').fill("-1")
    page.wait_for_selector('[data-path="projects[0].amount"].bad')
    shot(page, "bad-fact")
