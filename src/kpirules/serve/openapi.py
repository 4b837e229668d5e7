"""The OpenAPI 3.1 document of `kpirules serve` (served at /openapi.json): written out by hand so
that it says exactly what the routes do (tests/test_serve_schema.py runs schemathesis against it)."""

from __future__ import annotations

from typing import Any

from .. import __version__

_NAME = {"name": "name", "in": "path", "required": True, "description": "the policy's name (`policy NAME ...`)",
         "schema": {"type": "string"}}
_EVALUATION = {"name": "evaluation", "in": "path", "required": True, "description": "the evaluation's name",
               "schema": {"type": "string"}}
_EXPLAIN = {"name": "explain", "in": "query", "required": False,
            "description": "include the explanation of every value (the `kpirules.trace/1` document)",
            "schema": {"type": "string", "enum": ["true", "false"]}}
_AS_OF = {"name": "as_of", "in": "query", "required": False,
          "description": "the date the evaluation is made as of, YYYY-MM-DD (read by formulas as evaluation_date)",
          "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
_LANG = {"name": "lang", "in": "query", "required": False,
         "description": "language of the statement's sentences (labels stay as the policy wrote them)",
         "schema": {"type": "string", "enum": ["zh", "en"], "default": "en"}}
_POLICY_QUERY = {"name": "policy", "in": "query", "required": False,
                 "description": "check the text as this served policy's file, so that its `import`s resolve",
                 "schema": {"type": "string"}}

_FACTS_BODY = {"required": True, "description": "the fact set: a JSON object, numbers read exactly (a JSON number "
                                                "or a decimal string; never a binary float)",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Facts"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {400: "bad facts (`bad_facts`, with each violation's code and fact path) or a bad query parameter "
                  "(`bad_request`)",
             404: "no such policy or evaluation", 408: "the body did not arrive in time",
             413: "the body is longer than the server's --max-body",
             422: "the policy does not check (`bad_policy`, with its diagnostics), or cannot compute a value for "
                  "these facts (`evaluation_error`, R001)"}
    return {str(s): {"description": words[s],
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for s in statuses}


def _ok(description: str, schema: dict | None = None, media: str = "application/json") -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {"schema": schema or {"type": "object"}}}}}


_SCHEMAS: dict[str, Any] = {
    "Facts": {"type": "object", "description": "fact name -> value, as declared by the evaluation",
              "additionalProperties": True},
    "Problem": {"type": "object", "required": ["code", "severity", "message"], "properties": {
        "code": {"type": "string", "description": "a diagnostic code of docs/diagnostics.md (F..., E..., W..., R001)"},
        "severity": {"type": "string", "enum": ["error", "warning"]},
        "path": {"type": "string", "description": "the fact's path, e.g. `projects[3].collected` (facts)"},
        "message": {"type": "string"},
        "span": {"$ref": "#/components/schemas/Span"},
        "help": {"type": "string"}}},
    "Span": {"type": "object", "properties": {
        "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"},
        "end_line": {"type": "integer"}, "end_column": {"type": "integer"}}},
    "Error": {"type": "object", "required": ["status", "error", "message", "problems"], "properties": {
        "status": {"type": "integer"},
        "error": {"type": "string", "enum": ["bad_request", "bad_facts", "not_found", "method_not_allowed",
                                             "request_timeout", "body_too_large", "bad_policy", "evaluation_error",
                                             "internal_error"]},
        "message": {"type": "string"},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "limit": {"type": "integer"}}},
    "Result": {"type": "object", "required": ["policy", "evaluation", "values", "stamp"],
               "description": "the JSON of `kpirules eval --format json`: numbers as exact decimal strings",
               "properties": {
                   "policy": {"type": "object"}, "evaluation": {"type": "string"},
                   "values": {"type": "object", "additionalProperties": {"type": ["string", "boolean"]}},
                   "as_of": {"type": "string"}, "evaluation_version": {"type": "object"},
                   "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                   "stamp": {"type": "object"}, "trace": {"type": "object"}}},
    "Fact": {"type": "object", "required": ["name", "type", "rule"], "properties": {
        "name": {"type": "string"}, "label": {"type": ["string", "null"]}, "rule": {"type": "string"},
        "type": {"type": "string", "description": "number, integer, count, money, percent, points, boolean, text, "
                                                  "enum, date, period, list, record"},
        "values": {"type": "array", "items": {"type": "string"}},
        "min": {"type": "string"}, "max": {"type": "string"}, "above": {"type": "string"},
        "below": {"type": "string"}, "min_fact": {"type": "string"}, "max_fact": {"type": "string"},
        "pattern": {"type": "string"}, "keys": {"type": "array", "items": {"type": "string"}},
        "fields": {"type": "array", "items": {"type": "object"}}, "element": {"type": "object"},
        "at_most": {"type": "integer"}, "at_least": {"type": "integer"}}},
    "Evaluation": {"type": "object", "required": ["name", "facts", "outputs"], "properties": {
        "name": {"type": "string"}, "label": {"type": ["string", "null"]},
        "facts": {"type": "array", "items": {"$ref": "#/components/schemas/Fact"}},
        "outputs": {"type": "array", "items": {"type": "string"}},
        "versions": {"type": "array", "items": {"type": "object"}}}},
    "Policy": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "label": {"type": ["string", "null"]}, "version": {"type": ["string", "null"]},
        "sha256": {"type": "string"},
        "status": {"type": "string", "enum": ["ok", "error"], "description": "served policies only: whether it loaded"},
        "evaluations": {"type": "array", "items": {"$ref": "#/components/schemas/Evaluation"}},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "reload_error": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}},
    "Check": {"type": "object", "required": ["ok", "diagnostics"], "properties": {
        "ok": {"type": "boolean"},
        "path": {"type": "string", "description": "the file name the text was checked as (spans name it)"},
        "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "policy": {"$ref": "#/components/schemas/Policy"}}},
    "Example": {"type": "object", "required": ["name", "evaluation", "line"], "properties": {
        "name": {"type": "string"}, "evaluation": {"type": "string"}, "line": {"type": "integer"},
        "from": {"type": "string"}, "facts": {"type": "object"}, "as_of": {"type": "string"},
        "expects_errors": {"type": "boolean"}, "problem": {"type": "string"}}},
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "kpirules", "version": __version__,
                 "description": "Evaluate bonus policies exactly, with explanations (docs/service.md)."},
        "paths": {
            "/healthz": {"get": {"operationId": "healthz", "summary": "the server is up",
                                 "responses": _ok("status, version, policies served")}},
            "/v1/policies": {"get": {
                "operationId": "listPolicies", "summary": "the policies served, with their evaluations and facts",
                "responses": _ok("every policy", {"type": "object", "required": ["policies"], "properties": {
                    "policies": {"type": "array", "items": {"$ref": "#/components/schemas/Policy"}}}})}},
            "/v1/policies/{name}": {"get": {
                "operationId": "getPolicy", "summary": "one policy", "parameters": [_NAME],
                "responses": {**_ok("the policy", {"$ref": "#/components/schemas/Policy"}), **_errors(404, 422)}}},
            "/v1/policies/{name}/source": {"get": {
                "operationId": "getPolicySource", "summary": "the policy's text (for the playground's editor)",
                "parameters": [_NAME],
                "responses": {**_ok("the text of the .rules file", {"type": "string"}, "text/plain"),
                              **_errors(404, 422)}}},
            "/v1/policies/{name}/examples": {"get": {
                "operationId": "getPolicyExamples",
                "summary": "the policy's examples with their fact sets (`example ... from \"file.json\"`)",
                "parameters": [_NAME],
                "responses": {**_ok("the examples", {"type": "object", "required": ["policy", "examples"],
                                                     "properties": {"policy": {"type": "string"}, "examples": {
                                                         "type": "array",
                                                         "items": {"$ref": "#/components/schemas/Example"}}}}),
                              **_errors(404, 422)}}},
            "/v1/policies/{name}/evaluations/{evaluation}": {"post": {
                "operationId": "evaluate",
                "summary": "evaluate one fact set (the JSON of `kpirules eval --format json`)",
                "parameters": [_NAME, _EVALUATION, _EXPLAIN, _AS_OF], "requestBody": _FACTS_BODY,
                "responses": {**_ok("the result", {"$ref": "#/components/schemas/Result"}),
                              **_errors(400, 404, 408, 413, 422)}}},
            "/v1/policies/{name}/evaluations/{evaluation}/statement": {"post": {
                "operationId": "statement", "summary": "the statement for people, HTML or Markdown",
                "parameters": [_NAME, _EVALUATION, _EXPLAIN, _AS_OF, _LANG,
                               {"name": "format", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["html", "markdown"], "default": "html"}}],
                "requestBody": _FACTS_BODY,
                "responses": {"200": {"description": "the statement", "content": {
                    "text/html": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}}}},
                    **_errors(400, 404, 408, 413, 422)}}},
            "/v1/policies/{name}/evaluations/{evaluation}/batch": {"post": {
                "operationId": "batch",
                "summary": "JSONL in, JSONL out, streamed: one line per input line, bad lines isolated",
                "parameters": [_NAME, _EVALUATION, _EXPLAIN, _AS_OF,
                               {"name": "id_field", "in": "query", "required": False,
                                "description": "a field of each line echoed as `id` (dropped from the facts "
                                               "unless declared)", "schema": {"type": "string", "default": "id"}}],
                "requestBody": {"required": True, "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "one JSON object per line: {line, id?, status: ok, result} or "
                                                     "{line, id?, status: error, error}",
                                      "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                              **_errors(404, 408, 413, 422)}}},
            "/v1/check": {"post": {
                "operationId": "check", "summary": "check a policy text: its diagnostics (and, when it checks, "
                                                  "its evaluations and facts)",
                "parameters": [_POLICY_QUERY],
                "requestBody": {"required": False, "description": "the policy text (UTF-8); no body is an "
                                                                  "empty text",
                                "content": {"text/plain": {"schema": {"type": "string"}}}},
                "responses": {**_ok("the diagnostics; `ok` is false when any is an error",
                                    {"$ref": "#/components/schemas/Check"}), **_errors(400, 404, 408, 413)}}},
            "/v1/playground/evaluate": {"post": {
                "operationId": "playgroundEvaluate",
                "summary": "evaluate a policy text (not a served file) on a fact set: the result and the HTML "
                           "statement",
                "parameters": [_POLICY_QUERY, _EXPLAIN, _LANG],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["policy", "facts"], "properties": {
                        "policy": {"type": "string"}, "facts": {"$ref": "#/components/schemas/Facts"},
                        "evaluation": {"type": "string"}, "as_of": {"type": "string"}}}}}},
                "responses": {**_ok("the result and the statement", {
                    "type": "object", "required": ["result", "statement"], "properties": {
                        "result": {"$ref": "#/components/schemas/Result"}, "statement": {"type": "string"},
                        "labels": {"type": "object", "description": "value name -> its label",
                                   "additionalProperties": {"type": "string"}}}}),
                    **_errors(400, 404, 408, 413, 422)}}},
            "/v1/language": {"get": {
                "operationId": "language", "summary": "the keywords the playground's editor highlights",
                "responses": _ok("keywords by class")}},
        },
        "components": {"schemas": _SCHEMAS},
    }
