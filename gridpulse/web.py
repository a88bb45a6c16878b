"""The HTTP side of the server: the session-cookie routes and the security headers.

Mounted by ``server.py`` (``st.App``) beside Streamlit's own routes. No Streamlit
script runs here: these are plain Starlette endpoints and one ASGI middleware.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridpulse import config, sessions
from gridpulse.db import Store

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


def content_security_policy() -> str:
    """What a page of ours may load and talk to: only this server (and the office's tile server).

    Even if escaping failed somewhere, a script injected through imported text could not
    send anything to another origin (connect-src, img-src, form-action), nor could another
    site frame the dashboard (frame-ancestors). Streamlit's own page needs inline scripts
    and styles, so escaping stays the first defence.
    """
    img = "'self' data: blob:"
    tiles = config.tile_url()
    if tiles:
        parts = urlsplit(tiles.replace("{s}.", "*."))  # tile subdomains a., b., c.
        if parts.scheme in ("http", "https") and parts.netloc:
            img += f" {parts.scheme}://{parts.netloc}"
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
    from gridpulse.ui import cache

    return cache.store()


async def session_from_ticket(request: Request) -> Response:
    """``/gp/session?ticket=..&next=/meeting?...``: the one place the session cookie is set."""
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
    """``/gp/logout``: the record is already deleted by the page; this forgets the cookie too."""
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie:
        await run_in_threadpool(lambda: sessions.end(_store(), cookie))
    response = RedirectResponse("/", status_code=303)
    response.headers["cache-control"] = "no-store"
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [
        Route(sessions.TICKET_PATH, session_from_ticket, methods=["GET"]),
        Route(sessions.LOGOUT_PATH, logout, methods=["GET"]),
    ]
