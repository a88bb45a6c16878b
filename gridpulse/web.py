"""The HTTP side of the server: the session-cookie routes and the security headers.

Mounted by ``server.py`` (``st.App``) beside Streamlit's own routes. No Streamlit
script runs here: these are plain Starlette endpoints and one ASGI middleware.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridpulse import config, serving, sessions
from gridpulse.store import Store

# Windows takes file types from the registry, where other software often sets ``.js`` to
# text/plain: the browser then refuses the map scripts (nosniff) and the maps stay blank.
# The dashboard says what its files are itself, whatever the machine's registry says.
WEB_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".html": "text/html",
    ".png": "image/png",
}


def register_web_types() -> None:
    for ext, kind in WEB_TYPES.items():
        mimetypes.add_type(kind, ext)


def _tile_hosts(netloc: str) -> list[str]:
    """CSP sources for a tile server's host; ``{s}`` (subdomains a, b, c) as a wildcard where CSP allows one."""
    if "{s}" not in netloc:
        return [netloc]
    labels = netloc.split(".")
    if "{s}" in labels[0] and len(labels) > 2:
        return [".".join(["*", *labels[1:]])]
    return [netloc.replace("{s}", sub) for sub in "abc"]


def content_security_policy() -> str:
    """What a page of ours may load and talk to: only this server (and the office's tile server).

    Even if escaping failed somewhere, a script injected through imported text could not
    fetch, post to or load an image from another origin (connect-src, img-src, form-action),
    nor could another site frame the dashboard (frame-ancestors). Streamlit's own page needs
    inline scripts (its index.html has one), so a script that runs could still navigate the
    window away: escaping stays the first defence.
    """
    img = "'self' data: blob:"
    tiles = config.tile_url()
    if tiles:
        parts = urlsplit(tiles)
        if parts.scheme in ("http", "https") and parts.netloc:
            img += " " + " ".join(f"{parts.scheme}://{host}" for host in _tile_hosts(parts.netloc))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {img}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])  # fmt: skip


class SecurityHeaders:
    """Adds CSP, anti-framing and no-sniff headers to every HTTP response (websockets pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy().encode()),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in self.headers if k not in names)]  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _store() -> Store:
    """The UI's store, shared with this process's script runs."""
    from gridpulse.ui import database

    return database.store()


def _from_our_pages(request: Request) -> bool:
    """Browsers say where a request comes from (Sec-Fetch-Site): another site may not log a user in with
    someone else's ticket, nor log them out. A client that sends no such header (curl) is not a browser."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


async def session_from_ticket(request: Request) -> Response:
    """``/gp/session?ticket=..&next=/meeting?...``: the one place the session cookie is set."""
    if not _from_our_pages(request):
        return RedirectResponse("/", status_code=303)
    ticket = request.query_params.get("ticket", "")
    target = sessions.safe_next(request.query_params.get("next"))
    user_agent = request.headers.get("user-agent", "")
    cookie = await run_in_threadpool(lambda: sessions.redeem_ticket(_store(), ticket, user_agent)) if ticket else None
    response = RedirectResponse(target, status_code=303)
    response.headers["cache-control"] = "no-store"
    if cookie:
        response.set_cookie(
            sessions.COOKIE,
            cookie,
            max_age=sessions.MAX_HOURS * 3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


async def logout(request: Request) -> Response:
    """``/gp/logout?next=..``: the record is already deleted by the page (or was dead); the cookie goes too."""
    if not _from_our_pages(request):
        return RedirectResponse("/", status_code=303)
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie:
        await run_in_threadpool(lambda: sessions.end(_store(), cookie))
    response = RedirectResponse(sessions.safe_next(request.query_params.get("next")), status_code=303)
    response.headers["cache-control"] = "no-store"
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def admin_command(request: Request) -> Response:
    """A command-line tool on this machine runs a command on this server's store (gridpulse/serving.py)."""
    from gridpulse.__main__ import main

    db = config.db_path()
    client = request.client.host if request.client else None
    if not serving.allowed(client, request.headers.get(serving.TOKEN_HEADER), serving.mine(db)):
        return Response(status_code=403)
    try:
        body = await request.json()
        argv = [str(a) for a in body["argv"]]
        password = body.get("password")
    except (ValueError, KeyError, TypeError):
        return Response(status_code=400)
    store = await run_in_threadpool(_store)
    rc, out, err = await run_in_threadpool(serving.run_here, main, store, argv, password)
    return JSONResponse({"rc": rc, "stdout": out, "stderr": err})


def routes() -> list[Route]:
    return [
        Route(sessions.TICKET_PATH, session_from_ticket, methods=["GET"]),
        Route(sessions.LOGOUT_PATH, logout, methods=["GET"]),
        Route(serving.ADMIN_PATH, admin_command, methods=["POST"]),
    ]
