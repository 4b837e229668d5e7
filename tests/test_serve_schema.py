"""schemathesis against the OpenAPI document of `kpirules serve`, on a real server on 127.0.0.1:
generated requests for every operation (random names, bodies, query parameters) must get a
documented status, a documented content type and a body matching its schema; never a 500.

Bounded: a few examples per operation here; `-m slow` runs many more.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install '.[test]')")
pytest.importorskip("starlette", reason="the serve extra is not installed (pip install '.[serve]')")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402
from serve_live import LiveServer, copy_tree  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tree = copy_tree(tmp_path_factory.mktemp("schema"))
    with LiveServer(tree, max_body=256 * 1024, reload_interval=0) as server:
        yield server


def served_document() -> dict:
    """The document the server serves at /openapi.json (built by the same function; the test below
    checks that the server really serves it)."""
    from kpirules.serve import openapi
    return openapi.document()


schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # a JSONL batch body is text
schema = schemathesis.openapi.from_dict(served_document())
# A request the document allows may still be refused for what only the policy knows (facts out of
# range: 400; a policy text that does not check: 422), so "valid data is accepted" does not hold.
EXCLUDED = [positive_data_acceptance]


def test_the_document_is_the_one_served(live):
    import httpx
    assert httpx.get(f"{live.url}/openapi.json").json() == served_document()

SETTINGS = dict(deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


@schema.parametrize()
@settings(max_examples=8, **SETTINGS)
def test_api_keeps_its_openapi_document(case, live):
    response = case.call(base_url=live.url)
    assert response.status_code < 500, response.text[:500]
    case.validate_response(response, excluded_checks=EXCLUDED)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=200, **SETTINGS)
def test_api_keeps_its_openapi_document_long(case, live, request):
    if "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("slow profile: run with -m slow")
    response = case.call(base_url=live.url)
    assert response.status_code < 500, response.text[:500]
    case.validate_response(response, excluded_checks=EXCLUDED)


def test_answers_that_random_requests_rarely_reach_match_the_document(live):
    """The routes' successful answers, with real policies and facts, validated against the schemas
    of the document (random data seldom gets past the fact checks)."""
    import json

    import httpx
    import jsonschema
    from serve_live import ROOT
    doc = served_document()

    def validate(path, method, response):
        schema = doc["paths"][path][method]["responses"][str(response.status_code)]["content"]
        media = response.headers["content-type"].split(";")[0]
        body = response.json() if media == "application/json" else response.text
        wrapped = {**schema[media]["schema"], "components": doc["components"]}
        jsonschema.validate(body, wrapped)

    text = (ROOT / "policies" / "u8_presales.rules").read_text(encoding="utf-8")
    facts = json.loads((ROOT / "examples" / "u8_quarterly.json").read_text(encoding="utf-8"))
    with httpx.Client(base_url=live.url) as c:
        validate("/v1/policies", "get", c.get("/v1/policies"))
        validate("/v1/policies/{name}", "get", c.get("/v1/policies/u8_presales"))
        validate("/v1/policies/{name}/examples", "get", c.get("/v1/policies/u8_presales/examples"))
        for explain in ("false", "true"):
            validate("/v1/policies/{name}/evaluations/{evaluation}", "post",
                     c.post(f"/v1/policies/u8_presales/evaluations/quarterly?explain={explain}", json=facts))
        validate("/v1/check", "post", c.post("/v1/check?policy=u8_presales", content=text))
        validate("/v1/playground/evaluate", "post",
                 c.post("/v1/playground/evaluate?policy=u8_presales", json={"policy": text, "facts": facts,
                                                                          "evaluation": "quarterly"}))
        validate("/v1/policies/{name}/evaluations/{evaluation}", "post",
                 c.post("/v1/policies/u8_presales/evaluations/quarterly", json={"quarter": 9}))
