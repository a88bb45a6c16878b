"""The HTTP side of the server: the session-cookie routes and the security headers.

Mounted by ``server.py`` (``st.App``) beside Streamlit's own routes. No Streamlit
script runs here: these are plain Starlette endpoints and one ASGI middleware.
"""

from __future__ import annotations

import logging
import mimetypes
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridpulse import basemap, config, serving, sessions
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


def content_security_policy(tile_sources: list[str] | None = None) -> str:
    """What a page of ours may load and talk to: only this server (and the basemap's tile servers).

    ``tile_sources``: the basemap's servers (``basemap.csp_img_sources``); by default the
    server-wide one (``GRIDPULSE_TILE_URL``). A PMTiles basemap needs none: its file is served
    here and its tiles become ``blob:`` images.

    Even if escaping failed somewhere, a script injected through imported text could not
    fetch, post to or load an image from another origin (connect-src, img-src, form-action),
    nor could another site frame the dashboard (frame-ancestors). Streamlit's own page needs
    inline scripts (its index.html has one), so a script that runs could still navigate the
    window away: escaping stays the first defence.
    """
    sources = basemap.csp_img_sources(basemap.current(None)[0]) if tile_sources is None else tile_sources
    img = " ".join(["'self' data: blob:", *sources])
    # A map picture (the camera button) reads the tiles shown back as data: the basemap's blob: tiles
    # and its tile servers, which img-src already trusts (an image request can carry as much as a fetch).
    connect = " ".join(["'self' blob:", *sources])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {img}",
        "font-src 'self' data:",
        f"connect-src {connect}",
        "frame-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])  # fmt: skip


REFRESH_S = 5.0  # an admin's new basemap reaches the policy and the served file within this many seconds
_in_force: list[tuple[float, basemap.Basemap]] = [(float("-inf"), basemap.NONE)]  # (when read, what)


def basemap_in_force() -> basemap.Basemap:
    """The basemap an admin saved (every process reads the same store), read again at most every ``REFRESH_S``.

    No store yet (first start) or in trouble: the server-wide basemap only.
    """
    read_at, chosen = _in_force[0]
    if time.monotonic() - read_at > REFRESH_S:
        try:
            chosen = basemap.current(_store().basemap_json())[0]
        except Exception:
            logging.getLogger(__name__).debug("basemap not read", exc_info=True)
            chosen = basemap.current(None)[0]
        _in_force[0] = (time.monotonic(), chosen)
    return chosen


async def _basemap_now() -> basemap.Basemap:
    """``basemap_in_force()`` without leaving the event loop while the last reading is fresh."""
    read_at, chosen = _in_force[0]
    return chosen if time.monotonic() - read_at <= REFRESH_S else await run_in_threadpool(basemap_in_force)


class SecurityHeaders:
    """Adds CSP, anti-framing and no-sniff headers to every HTTP response (websockets pass through).

    The policy names the basemap's tile servers, which an admin may change while the server runs
    (in any process): the headers are built again when the basemap in force (``basemap_in_force``) changes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.built_for: basemap.Basemap | None = None
        self.headers: list[tuple[bytes, bytes]] = []

    async def _current_headers(self) -> list[tuple[bytes, bytes]]:
        chosen = await _basemap_now()
        if chosen != self.built_for:
            self.headers = [
                (b"content-security-policy", content_security_policy(basemap.csp_img_sources(chosen)).encode()),
                (b"x-frame-options", b"SAMEORIGIN"),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"same-origin"),
            ]
            self.built_for = chosen
        return self.headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = await self._current_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in headers if k not in names)]  # fmt: skip
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


async def basemap_file(request: Request) -> Response:
    """``/gp/basemap/<name>.pmtiles``: the basemap file in force, with range requests; nothing else of the folder."""
    name = request.path_params["name"]
    path = basemap.file_path(name)
    chosen = await _basemap_now()
    if path is None or chosen.kind != "pmtiles" or name != chosen.file:
        return Response(status_code=404)
    return FileResponse(path, media_type="application/octet-stream", headers={"cache-control": "private, max-age=3600"})


def routes() -> list[Route]:
    return [
        Route(basemap.SERVE_PATH + "/{name}", basemap_file, methods=["GET", "HEAD"]),
        Route(sessions.TICKET_PATH, session_from_ticket, methods=["GET"]),
        Route(sessions.LOGOUT_PATH, logout, methods=["GET"]),
        Route(serving.ADMIN_PATH, admin_command, methods=["POST"]),
    ]
