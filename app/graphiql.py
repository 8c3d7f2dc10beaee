"""GraphiQL from the project's own files (issue 13): the page Strawberry would serve loads React and
GraphiQL from a public CDN, which stays on "Loading..." on a network without it, and a system holding
PHI should run no third-party script. This page loads the pinned copies in app/static/vendor/graphiql/
(`make graphiql-assets`) and its own script file, under a Content-Security-Policy that lets scripts
come from this server only. Served, like GraphiQL before, only where introspection is on.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")
# GraphiQL's React components set inline style attributes, hence 'unsafe-inline' for styles only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tessera GraphiQL</title>
<link rel="stylesheet" href="/static/vendor/graphiql/graphiql.min.css">
<link rel="stylesheet" href="/static/tessera-graphiql.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/static/vendor/graphiql/react.production.min.js"></script>
<script src="/static/vendor/graphiql/react-dom.production.min.js"></script>
<script src="/static/vendor/graphiql/graphiql.min.js"></script>
<script src="/static/tessera-graphiql.js"></script>
</body>
</html>
"""
HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
