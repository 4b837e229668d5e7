"""`kpirules serve`: the HTTP service and the browser playground (needs the `serve` extra).

app.py holds the routes, registry.py loads and reloads the policies, describe.py says what a
policy offers as JSON, problems.py how errors read, openapi.py the OpenAPI document, language.py
the playground's keywords, command.py the command line; static/ the playground page.
Importing this package imports no web framework; `kpirules.serve.app.create_app` does.
"""
