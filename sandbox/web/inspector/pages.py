"""What every inspector page shares: the Jinja2 environment (autoescaped, built on the first page
view so start-up pays nothing), the admin-token check (bearer header, cookie or ?token=), the
flash message of the last action, the security headers and paging.

The admin token travels as a cookie because a browser cannot send a bearer header on navigation.
The cookie is HttpOnly, SameSite=Strict and scoped to /__sandbox/ui, so no other site's form can
carry it and no other path (EnKash's or the JSON admin API) ever receives it.
"""

from __future__ import annotations

import functools
import hmac
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple, Sequence
from urllib.parse import quote, unquote, urlencode, urlsplit

from sandbox.contract.credentials import bearer_value
from sandbox.contract.envelope import Reply
from sandbox.domain import errors
from sandbox.state.clock import iso
from sandbox.web.adapter import Call

if TYPE_CHECKING:
    from jinja2 import Environment

BASE = "/__sandbox/ui"
HTML = "text/html; charset=utf-8"
COOKIE = "sandbox_admin"
FLASH = "sandbox_flash"
HERE = Path(__file__).resolve().parent
MAX_TEXT = 200  # longest filter or search text read from a query (longer is cut)

SECURITY_HEADERS = {
    # no inline script or style can run even if a value ever escaped unescaped; forms post only here
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # a ?token= never leaves in a Referer (no-referrer would make a form's Origin "null")
    "Cache-Control": "no-store",
}


@functools.cache
def environment() -> "Environment":
    import jinja2  # on the first page view, not at start-up

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(num=number, when=when, ui=url)
    return env


def number(value: Any) -> str:
    """Points and coins as EnKash prints them: no trailing zeros, no exponent."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return "" if value is None else str(value)


def when(moment: datetime | None) -> str:
    return "" if moment is None else iso(moment)


def url(where: str = "", /, *segments: Any, **query: Any) -> str:
    """A link inside the inspector: `where`, then each segment (an id, quoted), then the query
    parameters that have a value."""
    shown = {name: value for name, value in query.items() if value not in (None, "")}
    path = where + "".join("/" + quote(str(segment), safe="") for segment in segments)
    return BASE + path + ("?" + urlencode(shown) if shown else "")


# --- the admin token ---------------------------------------------------------------------------
def cookies(call: Call) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in call.headers.get("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in found:
            found[name] = unquote(value)
    return found


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def signed_in(call: Call) -> bool:
    """No admin token set: everyone. Otherwise the token as a bearer header or as the cookie."""
    token = call.settings.admin_token
    if not token:
        return True
    header = call.headers.get("authorization", "")
    if header:
        try:
            return token_matches(bearer_value(header), token)
        except errors.SandboxError:
            return False
    return token_matches(cookies(call).get(COOKIE), token)


def admin_cookie(token: str) -> str:
    return f"{COOKIE}={quote(token, safe='')}; Path={BASE}; HttpOnly; SameSite=Strict"


def safe_next(target: Any) -> str:
    """Where to go after a login or an action: a page of the inspector, never another site."""
    text = str(target or "")
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not text.startswith(BASE) or "\\" in text or any(ord(c) < 32 for c in text):
        return BASE
    return text


def redirect(location: str, cookie: str | None = None) -> Reply:
    headers = {"Location": location, **SECURITY_HEADERS}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Reply("", 303, headers, HTML)


def login_page(call: Call, next_page: str, problem: str = "") -> Reply:
    return render(call, "login.html", status=401, title="Sign in", next_page=safe_next(next_page), problem=problem, chrome=False)


def path_of(call: Call) -> str:
    """This request's path, rebuilt from its route and parameters (a Call keeps no raw path)."""
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: quote(str(call.params[m.group(1)]), safe=""), call.route.path)


def request_path(call: Call, drop: str = "", **changes: Any) -> str:
    """This request's path and query, without the parameter `drop` and with `changes`."""
    query = {name: value for name, value in {**call.query, **changes}.items() if name != drop and value not in (None, "")}
    return path_of(call) + ("?" + urlencode(query) if query else "")


# --- rendering ---------------------------------------------------------------------------------
class Flash(NamedTuple):
    ok: bool
    text: str


def flash_cookie(ok: bool, text: str) -> str:
    value = quote(("ok:" if ok else "error:") + text[:600], safe="")
    return f"{FLASH}={value}; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=60"


def read_flash(call: Call) -> Flash | None:
    raw = cookies(call).get(FLASH)
    if not raw:
        return None
    kind, _, text = raw.partition(":")
    return Flash(kind == "ok", text)


def render(call: Call, template: str, status: int = 200, **context: Any) -> Reply:
    store = call.store
    flash = read_flash(call)
    context.setdefault("chrome", True)  # the sign-in page shows no navigation and no state
    headers = dict(SECURITY_HEADERS)
    if flash is not None:
        headers["Set-Cookie"] = f"{FLASH}=; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=0"
    html = environment().get_template(template).render(
        clock=store.clock.describe(), flash=flash, guarded=bool(call.settings.admin_token),
        here=request_path(call), query=call.query,
        relink=functools.partial(request_path, call), **context,
    )
    return Reply(html, status, headers, HTML)


class Missing(Exception):
    """A record the address names that the sandbox does not have: the page answers 404."""


def lookup(call: Call, table: dict[str, Any], param: str, what: str) -> Any:
    found = table.get(call.params[param])
    if found is None:
        raise Missing(f"{what} {call.params[param]}")
    return found


def not_found(call: Call, what: str) -> Reply:
    return render(call, "missing.html", status=404, title="Not found", message=f"The sandbox has no {what}.")


# --- guards --------------------------------------------------------------------------------------
def page(view: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    """A GET view behind the admin token. `?token=` signs in: the cookie is set and the address
    loses the token."""

    @functools.wraps(view)
    def guarded(call: Call) -> Reply:
        token = call.settings.admin_token
        if "token" in call.query:
            back = request_path(call, drop="token")
            if not token:
                return redirect(back)
            if token_matches(call.query["token"], token):
                return redirect(back, admin_cookie(token))
            return login_page(call, back, "That is not this sandbox's admin token.")
        if not signed_in(call):
            return login_page(call, request_path(call))
        try:
            return view(call)
        except Missing as missing:
            return not_found(call, str(missing))

    return guarded


def same_origin(call: Call) -> bool:
    """A POST must come from a page of this sandbox: the browser's Sec-Fetch-Site and Origin say
    so (clients that send neither, such as curl or a test, are not browsers on another site)."""
    site = call.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = call.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == call.headers.get("host", "")


def action(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    """A POST behind the admin token and the same-origin check."""

    @functools.wraps(handler)
    def guarded(call: Call) -> Reply:
        if not same_origin(call):
            return render(call, "missing.html", status=403, title="Refused",
                          message="A form posted from another site: the inspector's actions answer only its own pages.")
        if not signed_in(call):
            return login_page(call, form(call, "next"))
        return handler(call)

    return guarded


def form(call: Call, name: str, default: str = "") -> str:
    body = call.body if isinstance(call.body, dict) else {}
    value = body.get(name, default)
    return str(value).strip()[:MAX_TEXT] if value is not None else default


def text(call: Call, name: str) -> str:
    return call.query.get(name, "").strip()[:MAX_TEXT]


def integer(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(raw or default)))
    except ValueError:
        return default


class Page(NamedTuple):
    """One page of a long list: its rows, which page it is (from 1) and how many there are."""

    rows: Sequence[Any]
    number: int
    pages: int
    total: int
    size: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)


def paged(items: Sequence[Any], raw_page: str | None, size: int) -> Page:
    pages = max(1, -(-len(items) // size))
    number_ = integer(raw_page, 1, 1, pages)
    return Page(items[(number_ - 1) * size: number_ * size], number_, pages, len(items), size)


def first_of(items: Iterable[Any], wanted: Callable[[Any], bool]) -> Any:
    return next((item for item in items if wanted(item)), None)
