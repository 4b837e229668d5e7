"""The HTTP routes of `kpirules serve` (Starlette): a thin shell over the public API.

Every route reads its body with a size limit enforced while reading, parses fact sets with the
library's exact reader (`read_facts`: numbers never pass through float, duplicate keys are
refused), evaluates with `Policy.evaluate` and renders with the library's renderers, in a worker
thread so that one long evaluation never stalls the others. Errors are JSON (problems.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import Policy, __version__, load_policy_text, read_facts
from ..errors import EvaluationError, FactError, PolicyError, UsageError
from ..render import html as html_renderer
from ..render import markdown as markdown_renderer
from ..stamp import make as make_stamp
from . import describe, openapi
from .language import language as language_words
from .problems import Problem, from_evaluation, from_facts, from_policy
from .registry import Entry, Registry

log = logging.getLogger("kpirules.serve")
access = logging.getLogger("kpirules.serve.access")

MAX_BODY = 10 * 1024 * 1024   # bytes; `--max-body`
BODY_TIMEOUT = 30.0           # seconds for a whole request body to arrive
MAX_POLICY_CHARS = 1_000_000  # a policy text sent to /v1/check or the playground


# ---- responses -------------------------------------------------------------------------------

def _json(data: Any, status: int = 200) -> Response:
    """JSON as `kpirules eval --format json` writes it: UTF-8, indented, a final newline."""
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n", status_code=status,
                    media_type="application/json")


def _problem(p: Problem) -> Response:
    return _json(p.as_json(), p.status)


# ---- reading requests ------------------------------------------------------------------------

async def read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it grows past the limit (a declared length past it
    is refused before reading anything), and with 408 when it does not arrive in time."""
    limit: int = request.app.state.max_body
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem("bad_request", "the Content-Length header is not a number")
        if int(declared) > limit:
            raise Problem("body_too_large", f"the body is {declared} bytes; this server takes at most {limit}",
                          limit=limit)
    chunks, size = [], 0
    try:
        with anyio.fail_after(request.app.state.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Problem("body_too_large", f"the body is longer than {limit} bytes, the most this "
                                  "server takes", limit=limit)
                chunks.append(chunk)
    except TimeoutError:
        raise Problem("request_timeout", f"the body did not arrive within {request.app.state.body_timeout:g} "
                      "seconds") from None
    return b"".join(chunks)


def _text(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        code = "F001" if what == "facts" else "E003"
        raise Problem("bad_facts" if what == "facts" else "bad_request", f"the {what} are not UTF-8 text",
                      [{"code": code, "severity": "error", "path": "$",
                        "message": f"the body is not UTF-8 text (byte {exc.start})"}]) from None


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no", ""):
        return False
    raise Problem("bad_request", f"query parameter `{name}` must be true or false, not `{raw[:40]}`")


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = request.query_params.get(name, default)
    if raw not in choices:
        raise Problem("bad_request", f"query parameter `{name}` must be one of {', '.join(choices)}, "
                      f"not `{raw[:40]}`")
    return raw


def _as_of(request: Request) -> str | None:
    return request.query_params.get("as_of") or None


def _entry(request: Request) -> Entry:
    """The served policy the path names, as one whole version (a reload swaps entries, never edits one)."""
    name = request.path_params["name"]
    entry = request.app.state.registry.get(name)
    if entry is None:
        raise Problem("not_found", f"no policy `{name}` is served here (GET /v1/policies lists them)")
    if entry.policy is None:
        raise from_policy(entry.errors, f"policy file `{entry.path}`")
    return entry


def _policy(request: Request) -> Policy:
    policy = _entry(request).policy
    assert policy is not None  # _entry refuses a policy that never loaded
    return policy


def _evaluation(policy: Policy, name: str) -> str:
    if name not in policy.evaluations:
        raise Problem("not_found", f"policy `{policy.name}` has no evaluation `{name}`; it has: "
                      + ", ".join(policy.evaluations))
    return name


# ---- evaluating (in a worker thread) ---------------------------------------------------------

def evaluate(policy: Policy, evaluation: str, facts_text: str | dict, explain: bool, as_of: str | None) -> dict:
    """The JSON of `kpirules eval --format json` (with its stamp), or a Problem."""
    where = f"evaluation `{evaluation}` of policy `{policy.name}`"
    try:
        facts = read_facts(facts_text, is_text=True) if isinstance(facts_text, str) else facts_text
        result = policy.evaluate(facts, evaluation=evaluation, explain=explain, as_of=as_of)
    except FactError as exc:
        raise from_facts(exc, where) from None
    except EvaluationError as exc:
        raise from_evaluation(exc) from None
    except UsageError as exc:
        raise Problem("bad_request", str(exc)) from None
    return result.to_json(stamp=make_stamp(result.policy, facts, result.as_of))


def statement(policy: Policy, evaluation: str, facts_text: str | dict, fmt: str, lang: str, explain: bool,
              as_of: str | None) -> str:
    data = evaluate(policy, evaluation, facts_text, True, as_of)  # a statement needs the trace's labels
    renderer = html_renderer if fmt == "html" else markdown_renderer
    return renderer.render(data, explain=explain, lang=lang)


# ---- routes: policies ------------------------------------------------------------------------

async def list_policies(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    out = []
    for name in sorted(registry.entries):
        entry = registry.entries[name]
        out.append(_entry_json(entry))
    return _json({"policies": out})


def _entry_json(entry: Entry) -> dict:
    if entry.policy is None:
        return {"name": entry.name, "status": "error", "errors": [d.as_json() for d in entry.errors]}
    data = {**describe.summary(entry.policy), "status": "ok"}
    if entry.errors:  # the file changed and does not check: this version keeps serving
        data["reload_error"] = [d.as_json() for d in entry.errors]
    return data


async def get_policy(request: Request) -> Response:
    return _json(_entry_json(_entry(request)))


async def policy_source(request: Request) -> Response:
    policy = _policy(request)
    return Response(policy._model.source.text, media_type="text/plain; charset=utf-8")


async def policy_examples(request: Request) -> Response:
    policy = _policy(request)
    return _json({"policy": policy.name, "examples": await run_in_threadpool(describe.examples, policy)})


async def post_evaluation(request: Request) -> Response:
    policy = _policy(request)
    evaluation = _evaluation(policy, request.path_params["evaluation"])
    explain = _flag(request, "explain")
    text = _text(await read_body(request), "facts")
    data = await run_in_threadpool(evaluate, policy, evaluation, text, explain, _as_of(request))
    return _json(data)


async def post_statement(request: Request) -> Response:
    policy = _policy(request)
    evaluation = _evaluation(policy, request.path_params["evaluation"])
    fmt = _choice(request, "format", ("html", "markdown"), "html")
    lang = _choice(request, "lang", ("zh", "en"), "en")
    explain = _flag(request, "explain")
    text = _text(await read_body(request), "facts")
    page = await run_in_threadpool(statement, policy, evaluation, text, fmt, lang, explain, _as_of(request))
    media = "text/html; charset=utf-8" if fmt == "html" else "text/markdown; charset=utf-8"
    return Response(page, media_type=media)


async def post_batch(request: Request) -> Response:
    """JSONL in, JSONL out: one output line per input line, in order, written as each is evaluated.
    A bad line (a blank one too) gives an error line and the others still run."""
    policy = _policy(request)
    evaluation = _evaluation(policy, request.path_params["evaluation"])
    explain = _flag(request, "explain")
    id_field = request.query_params.get("id_field", "id")
    as_of = _as_of(request)
    body = await read_body(request)  # whole and bounded first: a client that sends before it reads cannot block
    declared = {name for name, _label, _rule in policy.facts_of(evaluation)} if as_of is None else None

    pieces = body.split(b"\n")
    if pieces and not pieces[-1].strip():
        pieces.pop()  # what follows the last newline is not a line

    async def lines() -> AsyncIterator[bytes]:
        for number, raw in enumerate(pieces, 1):
            out = await run_in_threadpool(_batch_line, policy, evaluation, raw, number, explain, as_of, id_field,
                                          declared)
            yield (json.dumps(out, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _batch_line(policy, evaluation, raw: bytes, number: int, explain: bool, as_of, id_field, declared) -> dict:
    out: dict[str, Any] = {"line": number}
    try:
        text = raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return {**out, "status": "error", "error": {"status": 400, "error": "bad_facts",
                                                     "message": "the line is not UTF-8 text", "problems": []}}
    if not text.strip():
        return {**out, "status": "error", "error": {"status": 400, "error": "bad_facts", "message": "the line is empty",
                                                     "problems": [{"code": "F001", "severity": "error", "path": "$",
                                                                   "message": "the line is empty; expected a JSON "
                                                                              "object of facts"}]}}
    try:
        facts = read_facts(text, is_text=True)
        if id_field in facts:
            ident = facts[id_field]
            shown = describe.plain(ident)  # a number as its exact digits: 7, not "7.0" nor a float
            out["id"] = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
            if declared is not None and id_field not in declared:
                facts = {k: v for k, v in facts.items() if k != id_field}
        data = evaluate(policy, evaluation, facts, explain, as_of)
    except FactError as exc:  # not JSON at all
        return {**out, "status": "error", "error": from_facts(exc, "the line", "the line").as_json()}
    except Problem as p:
        return {**out, "status": "error", "error": p.as_json()}
    except Exception as exc:  # a defect: this line says so, the others still run
        log.exception("batch line %d", number)
        return {**out, "status": "error", "error": {"status": 500, "error": "internal_error",
                                                     "message": f"internal error ({type(exc).__name__})",
                                                     "problems": []}}
    return {**out, "status": "ok", "result": data}


# ---- routes: checking and the playground -----------------------------------------------------

def _check_text(text: str, path: str) -> dict:
    try:
        policy = load_policy_text(text, path)
    except PolicyError as exc:
        return {"ok": False, "path": path, "diagnostics": [d.as_json() for d in exc.diagnostics]}
    return {"ok": True, "path": path, "diagnostics": [d.as_json() for d in policy.diagnostics],
            "policy": describe.summary(policy)}


def _policy_path(request: Request) -> str:
    """The path a policy text is checked as: a served policy's file (so that its imports resolve
    beside it), or `<playground>` in the served folder (imports resolve as for a file there)."""
    name = request.query_params.get("policy")
    if name:
        entry = request.app.state.registry.get(name)
        if entry is None:
            raise Problem("not_found", f"no policy `{name}` is served here")
        return entry.path
    return str(request.app.state.registry.folder / "<playground>")


async def post_check(request: Request) -> Response:
    path = _policy_path(request)
    text = _text(await read_body(request), "policy text")
    if len(text) > MAX_POLICY_CHARS:
        raise Problem("body_too_large", f"a policy text may have at most {MAX_POLICY_CHARS} characters")
    return _json(await run_in_threadpool(_check_text, text, path))


def _playground(text: str, path: str, evaluation: str | None, facts, explain: bool, lang: str, as_of) -> dict:
    try:
        policy = load_policy_text(text, path)
    except PolicyError as exc:
        raise from_policy(exc, "the policy") from None
    if evaluation is None:
        evaluation = policy.evaluations[0] if policy.evaluations else ""
    _evaluation(policy, evaluation)
    data = evaluate(policy, evaluation, facts, True, as_of)
    page = html_renderer.render(data, explain=explain, lang=lang)
    labels: dict[str, str] = {}
    stack = list(data["trace"]["nodes"])
    while stack:
        node = stack.pop()
        if node.get("label") and node.get("name") in data["values"]:
            labels.setdefault(node["name"], node["label"])
        stack.extend(node.get("children") or ())
    if not explain:
        data = {k: v for k, v in data.items() if k != "trace"}
    return {"result": data, "statement": page, "labels": labels}


async def post_playground(request: Request) -> Response:
    """{"policy": TEXT, "facts": {...}, "evaluation": NAME?, "as_of": DATE?} -> result and statement."""
    path = _policy_path(request)
    explain = _flag(request, "explain")
    lang = _choice(request, "lang", ("zh", "en"), "en")
    text = _text(await read_body(request), "facts")
    try:
        body = read_facts(text, is_text=True)  # the whole body exactly: the facts inside it too
    except FactError as exc:
        raise from_facts(exc, "the request") from None
    twice = getattr(body, "duplicates", None)  # facts.Pairs: the keys read more than once
    if twice:
        raise Problem("bad_request", "the body gives " + ", ".join(f"`{k}`" for k in twice) + " more than once")
    policy_text = body.get("policy")
    facts = body.get("facts")
    evaluation = body.get("evaluation")
    as_of = body.get("as_of")
    if not isinstance(policy_text, str):
        raise Problem("bad_request", "`policy` must be the policy's text")
    if len(policy_text) > MAX_POLICY_CHARS:
        raise Problem("body_too_large", f"a policy text may have at most {MAX_POLICY_CHARS} characters")
    if not isinstance(facts, dict):
        raise Problem("bad_facts", "`facts` must be a JSON object of facts",
                      [{"code": "F101", "severity": "error", "path": "$", "message": "expected a JSON object"}])
    if evaluation is not None and not isinstance(evaluation, str):
        raise Problem("bad_request", "`evaluation` must be a name")
    if as_of is not None and not isinstance(as_of, str):
        raise Problem("bad_request", "`as_of` must be a date written YYYY-MM-DD")
    return _json(await run_in_threadpool(_playground, policy_text, path, evaluation, facts, explain, lang, as_of))


async def language(request: Request) -> Response:
    """The words the playground highlights: the keywords of the grammar, by class."""
    return _json(language_words())


# ---- routes: service -------------------------------------------------------------------------

async def healthz(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    broken = sorted(name for name, e in registry.entries.items() if e.policy is None)
    return _json({"status": "ok", "version": __version__, **registry.status(), "broken": broken})


async def openapi_json(request: Request) -> Response:
    return _json(openapi.document())


_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/static/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
           "/static/playground.css": ("playground.css", "text/css; charset=utf-8")}


async def static(request: Request) -> Response:
    name, media = _STATIC[request.url.path]
    data = resources.files("kpirules.serve").joinpath("static", name).read_bytes()
    return Response(data, media_type=media, headers={
        "Cache-Control": "no-cache",
        # Everything the page needs comes from this server; nothing else may load.
        "Content-Security-Policy": "default-src 'self'; frame-src 'self' about:; img-src 'self' data:; "
                                   "style-src 'self' 'unsafe-inline'"})


# ---- errors and the access log ---------------------------------------------------------------

async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _problem(exc)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = _problem(Problem("method_not_allowed", f"{request.method} is not allowed on {request.url.path}"))
        response.headers.update(exc.headers or {})  # Allow: the methods the route takes
        return response
    return _problem(Problem("not_found", f"no route {request.method} {request.url.path}"))


async def _on_error(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(Problem("internal_error", f"internal error ({type(exc).__name__}); please report it"))


class AccessLog:
    """One line per request: client, method, path and query, status, bytes sent, milliseconds."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, sent = 500, 0

        async def counting(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            client = scope.get("client")
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + (f"?{query}" if query else "")
            access.info('%s "%s %s" %d %dB %.1fms', f"{client[0]}:{client[1]}" if client else "-",
                        scope["method"], target, status, sent, (time.perf_counter() - start) * 1000)


def create_app(policies: str | Path = "policies", max_body: int = MAX_BODY, reload_interval: float = 1.0,
               body_timeout: float = BODY_TIMEOUT) -> Starlette:
    """The service as an ASGI app. Policies are loaded now; the reload watcher runs while the app
    is served (its lifespan)."""
    registry = Registry(policies, interval=reload_interval)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        registry.start()
        try:
            yield
        finally:
            registry.stop()

    routes = [
        Route("/", static), Route("/static/playground.js", static), Route("/static/playground.css", static),
        Route("/openapi.json", openapi_json), Route("/healthz", healthz),
        Route("/v1/policies", list_policies),
        Route("/v1/policies/{name}", get_policy),
        Route("/v1/policies/{name}/source", policy_source),
        Route("/v1/policies/{name}/examples", policy_examples),
        Route("/v1/policies/{name}/evaluations/{evaluation}", post_evaluation, methods=["POST"]),
        Route("/v1/policies/{name}/evaluations/{evaluation}/statement", post_statement, methods=["POST"]),
        Route("/v1/policies/{name}/evaluations/{evaluation}/batch", post_batch, methods=["POST"]),
        Route("/v1/check", post_check, methods=["POST"]),
        Route("/v1/playground/evaluate", post_playground, methods=["POST"]),
        Route("/v1/language", language),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Problem: _on_problem, HTTPException: _on_http, Exception: _on_error})
    app.state.registry = registry
    app.state.max_body = max_body
    app.state.body_timeout = body_timeout
    app.add_middleware(AccessLog)
    return app
