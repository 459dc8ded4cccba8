"""What makes the pages safe to put on the internet: headers, the session cookie, CSRF,
and the client's address for the code throttle."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage

COOKIE_NAME = "pejling"
CSRF_FIELD = "csrf"
# Small: the biggest form is a comment of at most a couple of thousand characters.
MAX_REQUEST_BYTES = 32 * 1024

# No third-party origin at all: every style and image is Pejling's own, and no script.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def session_key(secret: str) -> bytes:
    """The cookie's 32-byte Fernet key, derived from WEB_SESSION_SECRET."""
    return hashlib.sha256(b"pejling web session\0" + secret.encode()).digest()


def setup_cookie_sessions(app: web.Application, secret: str, *, secure: bool) -> None:
    """Sessions in an encrypted, HttpOnly, SameSite=Lax cookie that lives as long as the
    browser session (a shared tablet forgets the person when the browser closes).

    Lax, not Strict: the letter's link arrives from another site (a QR scanner, a mail),
    and the redirect after it must already carry the new cookie."""
    storage = EncryptedCookieStorage(
        session_key(secret),
        cookie_name=COOKIE_NAME,
        httponly=True,
        secure=secure,
        samesite="Lax",
        max_age=None,
        path="/",
    )
    setup_sessions(app, storage)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, pages, static files and errors alike."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.app.get(HTTPS_KEY):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        # Pages hold personal answers: no copy in a shared device's cache, and the
        # browser's Back asks the server again (which shows the current question).
        response.headers["Cache-Control"] = "no-store"


HTTPS_KEY = web.AppKey("https", bool)


def csrf_token(session: Session) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every POST carries the session's CSRF token in its form, or is refused with 403."""
    if request.method == "POST":
        session = await get_session(request)
        expected = session.get(CSRF_FIELD)
        form = await request.post()
        given = form.get(CSRF_FIELD)
        if not (
            isinstance(expected, str)
            and isinstance(given, str)
            and hmac.compare_digest(expected.encode(), given.encode())
        ):
            raise CsrfRefused()
    return await handler(request)


class CsrfRefused(web.HTTPForbidden):
    """A form without the session's token: a forged one, or from an expired session."""


def client_address(request: web.Request, *, trust_proxy: bool) -> str:
    """The address the code throttle counts: the peer, or behind a trusted reverse proxy
    the last X-Forwarded-For entry (the one the proxy itself added)."""
    if trust_proxy:
        forwarded = request.headers.getall("X-Forwarded-For", [])
        last = forwarded[-1].split(",")[-1].strip() if forwarded else ""
        if _is_address(last):
            return str(ipaddress.ip_address(last))
    return request.remote or "unknown"


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False  # a malformed header counts as the proxy's own address
    return True
