"""`kpirules serve` against a real server on 127.0.0.1 (uvicorn in a thread, tests/serve_live.py),
called with a real HTTP client (httpx) and, for what a client library would not send (a body
that never ends, a body sent slowly), with raw sockets.

The response of an evaluation is byte for byte the output of `kpirules eval --format json`;
numbers are read exactly; bad facts, unknown names, huge and slow bodies, bad policies and
reloads under load each get their answer, and no answer ever holds a Python traceback.
"""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install '.[test]')")
pytest.importorskip("starlette", reason="the serve extra is not installed (pip install '.[serve]')")

from serve_live import ROOT, LiveServer, copy_tree  # noqa: E402

from kpirules.cli import main  # noqa: E402

SHIPPED = [(p.stem, ev, f"examples/{p.stem}.json") for p in sorted((ROOT / "policies").glob("*.rules"))
           for ev in [None] if (ROOT / "examples" / f"{p.stem}.json").exists()]
SHIPPED += [("u8_presales", "quarterly", "examples/u8_quarterly.json"),
            ("u8_presales", "monthly", "examples/u8_monthly.json")]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return copy_tree(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(tree):
    with LiveServer(tree, max_body=64 * 1024, body_timeout=2.0, reload_interval=0) as live:
        yield live


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def cli_json(*argv) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    assert code == 0
    return out.getvalue()


def evaluation_of(name: str, evaluation: str | None) -> str:
    if evaluation:
        return evaluation
    import kpirules
    return kpirules.load_policy(ROOT / "policies" / f"{name}.rules").evaluations[0]

# Every policy file shipped in policies/ is served.
_SHIPPED = len(list((Path(__file__).resolve().parent.parent / "policies").glob("*.rules")))


def assert_no_traceback(response) -> None:
    assert "Traceback" not in response.text and 'File "' not in response.text


# ---- the service -------------------------------------------------------------------------------

def test_healthz_and_openapi(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["policies"] == _SHIPPED
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/v1/policies", "/v1/policies/{name}", "/v1/policies/{name}/evaluations/{evaluation}",
                 "/v1/policies/{name}/evaluations/{evaluation}/statement",
                 "/v1/policies/{name}/evaluations/{evaluation}/batch", "/v1/check", "/healthz"):
        assert path in doc["paths"], path


def test_policies_listed_with_evaluations_and_fact_types(client):
    import kpirules
    listed = {p["name"]: p for p in client.get("/v1/policies").json()["policies"]}
    assert len(listed) == _SHIPPED
    u8 = listed["u8_presales"]
    policy = kpirules.load_policy(ROOT / "policies" / "u8_presales.rules")
    assert u8["version"] == policy.version and u8["sha256"] == policy.sha256 and u8["status"] == "ok"
    assert [e["name"] for e in u8["evaluations"]] == ["quarterly", "monthly"]
    facts = {f["name"]: f for f in u8["evaluations"][0]["facts"]}
    assert facts["quarter"] == {"name": "quarter", "label": "季度", "rule": "integer in 1..4", "type": "integer",
                                "min": "1", "max": "4"}
    assert facts["role"]["type"] == "enum" and facts["role"]["values"] == ["senior", "assistant"]
    assert facts["projects_won"]["max_fact"] == "projects_supported"
    assert facts["rollout"]["type"] == "record" and "sales_tools" in facts["rollout"]["keys"]
    assert facts["attendance_violations"]["element"] == {"type": "number", "min": "1", "max": "2"}
    one = client.get("/v1/policies/u8_presales").json()
    assert one["name"] == "u8_presales" and one["evaluations"] == u8["evaluations"]


@pytest.mark.parametrize("name,evaluation,facts", SHIPPED)
def test_evaluation_is_the_cli_json_byte_for_byte(client, name, evaluation, facts, monkeypatch):
    monkeypatch.chdir(ROOT)
    evaluation = evaluation_of(name, evaluation)
    body = (ROOT / facts).read_bytes()
    for explain in (False, True):
        r = client.post(f"/v1/policies/{name}/evaluations/{evaluation}", content=body,
                        params={"explain": "true"} if explain else {}, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        expected = cli_json("eval", f"policies/{name}.rules", facts, "--evaluation", evaluation, "--format", "json",
                            *(["--explain"] if explain else []))
        if explain:  # spans name the file as it was loaded: the served copy, or policies/ from the CLI
            def same_files(text):
                return re.sub(r'"file": "[^"]*?((policies|ruleset)/[^"/]+\.rules)"', r'"file": "\1"', text)
            assert same_files(r.text) == same_files(expected)
        else:
            assert r.text == expected


def test_numbers_are_read_exactly_never_through_float(client):
    facts = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
    text = json.dumps(facts).replace('"36000.00"', "12345678901234567.89")  # a float would say ...568
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly", content=text)
    assert r.status_code == 200, r.text
    # bonus = salary × 40% × completion (2/3) × kpi_score (78) / 100, rounded half up to cents,
    # computed here with fractions: a float salary would be off by about 0.1 already.
    from fractions import Fraction
    exact = Fraction("12345678901234567.89") * Fraction(4, 10) * Fraction(2, 3) * 78 / 100
    cents = (exact * 100 + Fraction(1, 2)).__floor__()
    assert Decimal(r.json()["values"]["quarterly_bonus"]) == Decimal(cents).scaleb(-2)
    assert r.json()["values"]["quarterly_bonus"] == "2567901211456790.12"
    for written, code in (("NaN", "F102"), ("Infinity", "F102"), ("1e400", "F104"), ('"36,000"', "F103")):
        r = client.post("/v1/policies/u8_presales/evaluations/quarterly", content=text.replace(
            "12345678901234567.89", written))
        assert r.status_code == 400 and r.json()["problems"] == [
            {**r.json()["problems"][0], "code": code, "path": "base_salary"}], (written, r.text)


def test_bad_facts_are_400_with_codes_and_paths(client):
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly",
                    content='{"quarter": 5, "quarter": 2, "role": "manager"}')
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "bad_facts"
    found = {(p["code"], p["path"]) for p in body["problems"]}
    assert ("F109", "quarter") in found and ("F106", "role") in found and ("F107", "base_salary") in found
    for text, code in (('{"quarter": ', "F001"), ("[1, 2]", "F101"), ("", "F001"), ('{"a": 1}x', "F001")):
        r = client.post("/v1/policies/u8_presales/evaluations/quarterly", content=text)
        assert r.status_code == 400 and r.json()["problems"][0]["code"] == code, (text, r.text)
        assert_no_traceback(r)
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly", content=b'{"quarter": "\xff"}')
    assert r.status_code == 400 and r.json()["error"] == "bad_facts"
    # A float-like number where a count is declared: refused by its path, not rounded.
    facts = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
    facts["projects_won"] = 7.0000000000000001
    text = json.dumps(facts).replace("7.0", "7.0000000000000001")
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly", content=text)
    assert r.status_code == 400 and r.json()["problems"][0]["path"] == "projects_won", r.text


def test_bad_query_is_400(client):
    body = (ROOT / "examples" / "u8_quarterly.json").read_bytes()
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly?explain=maybe", content=body)
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly/statement?format=pdf", content=body)
    assert r.status_code == 400
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly?as_of=2026-02-30", content=body)
    assert r.status_code == 400 and "2026-02-30" in r.json()["message"]


def test_unknown_names_are_404(client):
    body = (ROOT / "examples" / "u8_quarterly.json").read_bytes()
    for url in ("/v1/policies/nope", "/v1/policies/nope/examples"):
        r = client.get(url)
        assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.post("/v1/policies/nope/evaluations/quarterly", content=body)
    assert r.status_code == 404 and "nope" in r.json()["message"]
    r = client.post("/v1/policies/u8_presales/evaluations/weekly", content=body)
    assert r.status_code == 404 and "quarterly, monthly" in r.json()["message"]
    assert client.get("/v1/nothing").status_code == 404
    r = client.delete("/v1/policies")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_statement_html_and_markdown(client):
    body = (ROOT / "examples" / "u8_quarterly.json").read_bytes()
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly/statement", content=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "7,488.00" in r.text or "7488.00" in r.text
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly/statement?format=markdown&lang=en&explain=true",
                    content=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("# 售前支持部绩效考核办法")


def test_batch_streams_one_line_per_line_bad_lines_isolated(client):
    good = json.dumps(json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8")))
    lines = [good, "not json", "", json.dumps({**json.loads(good), "id": "e-7", "quarter": 9}),
             json.dumps({**json.loads(good), "id": "e-8"}), "@@FF@@",
             json.dumps({**json.loads(good), "id": 12}).replace('"id": 12', '"id": 12.50')]
    body = ("\n".join(lines) + "\n").encode("utf-8").replace(b"@@FF@@", b"\xff")  # a line that is not UTF-8
    with client.stream("POST", "/v1/policies/u8_presales/evaluations/quarterly/batch", content=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        out = [json.loads(line) for line in r.iter_lines() if line]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6, 7]  # one per line: the final newline starts none
    assert [o["status"] for o in out] == ["ok", "error", "error", "error", "ok", "error", "ok"]
    assert out[2]["error"]["message"] == "the line is empty"
    out = out[:2] + out[3:]
    assert out[4]["error"]["message"] == "the line is not UTF-8 text"
    assert out[5]["id"] == "12.50"  # as written, exactly
    assert out[0]["result"]["values"]["quarterly_bonus"] == "7488.00"
    assert out[1]["error"]["problems"][0]["code"] == "F001"
    assert out[2]["id"] == "e-7" and out[2]["error"]["problems"][0] == {
        "code": "F110", "severity": "error", "path": "quarter",
        "message": "must be <= 4, got `9` (rule: `integer in 1..4`)"}
    assert out[3]["id"] == "e-8" and "warnings" not in out[3]["result"]  # the id is not an unknown fact


def test_check_gives_diagnostics_with_positions(client):
    text = 'policy x version "1"\n\nevaluation e:\n    fact a: money\n    output b = a * 2 + c\n'
    r = client.post("/v1/check", content=text)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    d = body["diagnostics"][0]
    assert d["code"] == "E201" and d["span"]["line"] == 5 and d["span"]["column"] == 24
    r = client.post("/v1/check", content=text.replace(" + c", ""))
    assert r.json()["ok"] is True and r.json()["policy"]["evaluations"][0]["facts"][0]["type"] == "money"
    # As a served policy's file: its imports resolve.
    source = client.get("/v1/policies/presales_work/source").text
    assert "\nimport " in source
    assert client.post("/v1/check", params={"policy": "presales_work"}, content=source).json()["ok"] is True


def test_examples_of_a_policy(client):
    examples = client.get("/v1/policies/u8_presales/examples").json()["examples"]
    first = examples[0]
    assert first["evaluation"] == "quarterly" and first["from"] == "../examples/u8_quarterly.json"
    assert first["facts"]["base_salary"] == "36000.00"
    r = client.post("/v1/policies/u8_presales/evaluations/quarterly", json=first["facts"])
    assert r.json()["values"]["quarterly_bonus"] == "7488.00"


def test_playground_evaluate(client):
    text = (ROOT / "policies" / "u8_presales.rules").read_text(encoding="utf-8")
    facts = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
    r = client.post("/v1/playground/evaluate", json={"policy": text, "facts": facts, "evaluation": "quarterly"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["values"]["quarterly_bonus"] == "7488.00" and "<html" in r.json()["statement"]
    r = client.post("/v1/playground/evaluate", json={"policy": text + "\nbroken", "facts": facts})
    assert r.status_code == 422 and r.json()["error"] == "bad_policy" and r.json()["problems"][0]["span"]
    r = client.post("/v1/playground/evaluate", content='{"policy": "", "policy": "x", "facts": {}}')
    assert r.status_code == 400 and "`policy` more than once" in r.json()["message"]
    r = client.post("/v1/playground/evaluate", json={"policy": text, "facts": {**facts, "quarter": 0},
                                                     "evaluation": "quarterly"})
    assert r.status_code == 400 and r.json()["problems"][0]["path"] == "quarter"


# ---- bodies: too large, never ending, slow -----------------------------------------------------

def test_a_declared_length_over_the_limit_is_413_before_reading(client, server):
    r = client.post("/v1/check", content=b"x" * (64 * 1024 + 1))
    assert r.status_code == 413 and r.json()["error"] == "body_too_large" and r.json()["limit"] == 64 * 1024


def raw_request(server, head: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(head.encode("ascii"))
    return s


def read_response(s: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_chunked_body_is_cut_off_at_the_limit_while_reading(server):
    """The body never ends; the server answers 413 once it has read past the limit."""
    s = raw_request(server, "POST /v1/policies/u8_presales/evaluations/quarterly HTTP/1.1\r\nHost: x\r\n"
                            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    try:
        chunk = b"{" + b" " * 8190
        for _ in range(2 * 64 * 1024 // len(chunk) + 1):  # twice the limit, and the body never ends
            s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        # Read only after the limit, it would wait for the end (or time out with 408 after 2 s).
        answer = read_response(s)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    finally:
        s.close()


def test_a_slow_client_does_not_block_others_and_times_out(server, client):
    s = raw_request(server, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npolicy")
    try:
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200  # served while the slow body is pending
        assert time.monotonic() - started < 1.5
        answer = read_response(s)  # body_timeout is 2 s in this fixture
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    finally:
        s.close()


def test_garbage_never_shows_a_traceback(client):
    for method, url, body in (("POST", "/v1/check", b"\x00\xff" * 10), ("POST", "/v1/check", "policy \u202e x"),
                              ("POST", "/v1/playground/evaluate", b'{"policy": 1, "facts": []}'),
                              ("POST", "/v1/playground/evaluate", b"[]"),
                              ("POST", "/v1/policies/u8_presales/evaluations/quarterly", b"1e999999999999"),
                              ("POST", "/v1/policies/u8_presales/evaluations/quarterly", b"[" * 100000),
                              ("GET", "/v1/policies/%00", b"")):
        r = client.request(method, url, content=body)
        assert r.status_code < 500, (url, body[:20], r.text[:300])
        assert_no_traceback(r)


def test_access_log_has_a_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="kpirules.serve.access"):
        client.get("/healthz")
        client.get("/v1/policies/nope")
    lines = [r.getMessage() for r in caplog.records if r.name == "kpirules.serve.access"]
    assert any('"GET /healthz" 200' in line for line in lines), lines
    assert any('"GET /v1/policies/nope" 404' in line for line in lines), lines


# ---- bad policies and reloads ------------------------------------------------------------------

BROKEN = 'policy broken version "1"\n\nevaluation e:\n    fact a: money\n    output b = a * c\n'
DIVIDES = 'policy divides version "1"\n\nevaluation e:\n    fact a: money\n    fact b: number\n    output r = a / b\n'


def test_a_bad_policy_is_422_and_an_evaluation_error_too(tmp_path):
    (tmp_path / "broken.rules").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "divides.rules").write_text(DIVIDES, encoding="utf-8")
    with LiveServer(tmp_path, reload_interval=0) as live, httpx.Client(base_url=live.url) as c:
        r = c.post("/v1/policies/broken/evaluations/e", json={"a": "1"})
        assert r.status_code == 422 and r.json()["error"] == "bad_policy"
        assert r.json()["problems"][0]["code"] == "E201" and r.json()["problems"][0]["span"]["line"] == 5
        assert c.get("/healthz").json()["broken"] == ["broken"]
        assert [p["status"] for p in c.get("/v1/policies").json()["policies"]] == ["error", "ok"]
        r = c.post("/v1/policies/divides/evaluations/e", json={"a": "1", "b": "0"})
        assert r.status_code == 422 and r.json()["error"] == "evaluation_error"
        assert r.json()["problems"][0]["code"] == "R001" and r.json()["problems"][0]["path"] == "r"


def write(path: Path, text: str) -> None:
    """Write the file whole (a reader sees the old text or the new one) with a new modification time."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    stamp = time.time_ns() + 1_000_000
    import os
    os.utime(path, ns=(stamp, stamp))


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_reload_swaps_in_good_versions_and_keeps_the_old_one_for_a_bad_one(tmp_path):
    good = 'policy p version "{v}"\n\nevaluation e:\n    fact a: money\n    output b = a * {k}\n'
    path = tmp_path / "p.rules"
    write(path, good.format(v="1", k=2))
    with LiveServer(tmp_path, reload_interval=0.1) as live, httpx.Client(base_url=live.url) as c:
        def bonus():
            return c.post("/v1/policies/p/evaluations/e", json={"a": "10"}).json()["values"]["b"]
        assert bonus() == "20"
        write(path, good.format(v="2", k=3))
        assert wait_for(lambda: bonus() == "30")
        write(path, good.format(v="3", k="unknown_name"))  # does not check: version 2 keeps serving
        assert wait_for(lambda: "reload_error" in c.get("/v1/policies/p").json())
        assert bonus() == "30" and c.get("/v1/policies/p").json()["version"] == "2"
        write(path, good.format(v="4", k=4))
        assert wait_for(lambda: bonus() == "40")
        assert "reload_error" not in c.get("/v1/policies/p").json()
        path.unlink()
        assert wait_for(lambda: c.get("/v1/policies/p").status_code == 404)


def test_concurrent_requests_during_reloads_see_whole_versions(tmp_path):
    """While the file flips between versions (some broken), every answer is 200 and comes from one
    whole good version: the bonus always matches the sha256 of the version that computed it."""
    import kpirules
    good = 'policy p version "{k}"\n\nevaluation e:\n    fact a: money\n    output b = a * {k}\n'
    versions = {}
    for k in (2, 3, 5):
        versions[kpirules.load_policy_text(good.format(k=k)).sha256] = str(10 * k)
    path = tmp_path / "p.rules"
    write(path, good.format(k=2))
    errors: list = []
    stop = threading.Event()
    with LiveServer(tmp_path, reload_interval=0.02) as live:
        def hammer():
            with httpx.Client(base_url=live.url) as c:
                while not stop.is_set():
                    r = c.post("/v1/policies/p/evaluations/e", json={"a": "10"})
                    if r.status_code != 200:
                        errors.append(r.text)
                        continue
                    data = r.json()
                    if versions.get(data["stamp"]["policy_sha256"]) != data["values"]["b"]:
                        errors.append(data)
        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        for i in range(30):
            k = (2, 3, 5)[i % 3]
            write(path, good.format(k=k) if i % 4 else good.format(k=k).replace("a *", "a * nope *"))
            time.sleep(0.03)
        stop.set()
        for t in threads:
            t.join()
        assert live.app.state.registry.generation > 5
    assert not errors, errors[:3]


# ---- the command line --------------------------------------------------------------------------

def test_kpirules_serve_command(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([sys.executable, "-m", "kpirules", "serve", "--policies", str(ROOT / "policies"),
                             "--port", str(port), "--max-body", "1000"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _up(url), 30), "the server did not start"
        assert httpx.post(url + "/v1/check", content="x" * 1001).status_code == 413
        r = httpx.post(url + "/v1/policies/u8_presales/evaluations/quarterly",
                       content=(ROOT / "examples" / "u8_quarterly.json").read_bytes())
        assert r.status_code == 200 and r.json()["values"]["quarterly_bonus"] == "7488.00"
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert f"serving {_SHIPPED} policies" in err
    assert '"POST /v1/policies/u8_presales/evaluations/quarterly" 200' in err  # the access log
    assert "Traceback" not in err


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["serve", "--policies", str(tmp_path / "none")]) == 2
    assert "is not a folder" in capsys.readouterr().err


# ---- the documentation -------------------------------------------------------------------------

def test_docs_describe_every_route_and_error():
    from kpirules.serve import openapi, problems
    doc = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    for path, methods in openapi.document()["paths"].items():
        for method in methods:
            assert f"`{method.upper()} {path}`" in doc, f"docs/service.md does not describe {method.upper()} {path}"
    for error, status in problems.STATUS.items():
        assert f"| {status} | `{error}` |" in doc, f"docs/service.md does not list the error `{error}`"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```sh\nkpirules serve\n```" in readme and "docs/service.md" in readme
    assert "## The HTTP service" in (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")


def test_a_changed_module_reloads_the_policies_that_import_it(tmp_path):
    policies = copy_tree(tmp_path)
    module = tmp_path / "ruleset" / "presales.rules"
    original = module.read_text(encoding="utf-8")
    with LiveServer(policies, reload_interval=0.1) as live, httpx.Client(base_url=live.url) as c:
        before = c.get("/v1/policies/u8_presales").json()["sha256"]
        write(module, original + "\n# a comment changes the stamp of every policy that imports it\n")
        assert wait_for(lambda: c.get("/v1/policies/u8_presales").json()["sha256"] != before)
        changed = c.get("/v1/policies/u8_presales").json()["sha256"]
        write(module, original + "\nlet broken = nowhere\n")  # the module breaks: the last good version stays
        assert wait_for(lambda: "reload_error" in c.get("/v1/policies/u8_presales").json())
        assert c.get("/v1/policies/u8_presales").json()["sha256"] == changed
        r = c.post("/v1/policies/u8_presales/evaluations/quarterly",
                   content=(ROOT / "examples" / "u8_quarterly.json").read_bytes())
        assert r.status_code == 200 and r.json()["stamp"]["policy_sha256"] == changed
