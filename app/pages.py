"""The pages mail links open (issue 10): staff `/register?token=` and `/reset-password?token=` here,
and the client invitation's `/invitation?token=` (app/invitation_page.py, built on these).

Plain server-rendered HTML (Jinja2), no script. The form posts the link's token in a hidden field to
the same path; the POST runs the very code path of the `acceptStaffInvitation` mutation
(`schema.errors.attempt` around `resolvers.access.accept_staff_invitation`) with a RequestContext
made as app/graphql.py makes it, and shows its UserErrors next to the fields they concern. On
success the page shows the organization and the username to log in with; the session the resolver
opens is not shown (the person logs in from the app).

Security (every page response):
- Content-Security-Policy: `default-src 'none'`, the one inline stylesheet allowed by its SHA-256
  hash, `form-action 'self'`, `frame-ancestors 'none'`, `base-uri 'none'`: no script runs at all.
- `Referrer-Policy: no-referrer` (the token is in the URL) and `Cache-Control: no-store`.
- CSRF, by a double-submit token: the GET sets a random value in a cookie (`SameSite=Strict`,
  `HttpOnly`, `__Host-` prefixed and `Secure` over HTTPS) and in a hidden field; a POST whose field
  does not equal its cookie is refused (403). Checking Origin alone is not possible here: under
  `Referrer-Policy: no-referrer` browsers send `Origin: null` on a same-origin form POST. An Origin
  that is present, not `null` and not this server's is refused as well.
- The token never reaches a log: the access log (app/middleware.py) writes the path, never the
  query string, and the token travels in the POST body, not in the action URL.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.settings import Settings
from resolvers import access
from resolvers.authenticate import authenticate
from resolvers.context import RequestContext
from resolvers.credentials import PASSWORD_MAX, PASSWORD_MIN, PIN_MAX, PIN_MIN
from resolvers.loaders import Loaders
from resolvers.sessions import end_session_of
from schema.errors import UserError, attempt

LANGUAGES = ("en", "fr")
CSRF_FIELD = "csrf"
CSRF_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

# The pages' only style: inline, allowed by its hash in the CSP (no stylesheet request, no 'unsafe-inline').
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1a1a1a}"
    "label{display:block;font-weight:600;margin-top:1rem}"
    "input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;margin-top:.25rem}"
    ".hint{font-size:.9rem;color:#444;margin:.25rem 0 0}"
    ".error{color:#a00000;font-weight:600;margin:.25rem 0 0}"
    "[aria-invalid=true]{border:2px solid #a00000}"
    ".alert{border:2px solid #a00000;padding:.75rem;margin:1rem 0}"
    "button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}"
    "dt{font-weight:600}dd{margin:0 0 .75rem;font-family:ui-monospace,monospace;font-size:1.1rem}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# What every page's template reads and no request changes: Jinja's globals, not render arguments.
TEMPLATES.globals.update(style=STYLE, csrf_field=CSRF_FIELD, password_min=PASSWORD_MIN)
CSP = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "register_title": "Set up your Tessera account",
        "register_intro": "Choose the password you will log in with, and a PIN to unlock your session.",
        "reset_title": "Choose a new Tessera password",
        "reset_intro": "Choose a new password. Your other sessions end when it is set.",
        "password": "New password",
        "password_hint": f"{PASSWORD_MIN} to {PASSWORD_MAX} characters; a few unrelated words make a good one.",
        "confirm": "Repeat the new password",
        "pin": "PIN (optional)",
        "pin_hint": f"{PIN_MIN} to {PIN_MAX} digits, to unlock a locked session quickly.",
        "submit": "Save my password",
        "problems": "The form could not be saved:",
        "mismatch": "The two passwords differ.",
        "csrf": "This form expired or was not sent from this page: open the link from your email again.",
        "done_register": "Your account is ready.",
        "done_reset": "Your new password is set.",
        "login_with": "Log in to Tessera with:",
        "organization": "Organization",
        "organization_code": "Organization code",
        "username": "Username",
        "password_reminder": "and the password you have just chosen.",
    },
    "fr": {
        "register_title": "Activez votre compte Tessera",
        "register_intro": "Choisissez le mot de passe de connexion, et un NIP pour déverrouiller votre session.",
        "reset_title": "Choisissez un nouveau mot de passe Tessera",
        "reset_intro": "Choisissez un nouveau mot de passe. Vos autres sessions prennent fin dès qu'il est enregistré.",
        "password": "Nouveau mot de passe",
        "password_hint": f"De {PASSWORD_MIN} à {PASSWORD_MAX} caractères ; quelques mots sans lien en font un bon.",
        "confirm": "Répétez le nouveau mot de passe",
        "pin": "NIP (facultatif)",
        "pin_hint": f"De {PIN_MIN} à {PIN_MAX} chiffres, pour déverrouiller rapidement une session verrouillée.",
        "submit": "Enregistrer mon mot de passe",
        "problems": "Le formulaire n'a pas pu être enregistré :",
        "mismatch": "Les deux mots de passe diffèrent.",
        "csrf": "Ce formulaire a expiré ou ne vient pas de cette page : rouvrez le lien de votre courriel.",
        "done_register": "Votre compte est prêt.",
        "done_reset": "Votre nouveau mot de passe est enregistré.",
        "login_with": "Connectez-vous à Tessera avec :",
        "organization": "Organisation",
        "organization_code": "Code de l'organisation",
        "username": "Nom d'utilisateur",
        "password_reminder": "et le mot de passe que vous venez de choisir.",
    },
}

# The resolvers' UserError messages are English; the French page shows these instead (an unknown
# message is shown as the resolver wrote it).
FRENCH_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(re.escape(access.INVITATION_INVALID_MESSAGE)),
        "Ce lien n'est plus valide : demandez-en un nouveau à votre administrateur.",
    ),
    (
        re.compile(re.escape(access.LINK_USED_MESSAGE)),
        "Ce lien a déjà servi : connectez-vous avec le mot de passe qu'il a enregistré, ou demandez-en un "
        "nouveau à votre administrateur.",
    ),
    (re.compile(r"Use at least (\d+) characters\."), r"Utilisez au moins \1 caractères."),
    (re.compile(r"Use at most (\d+) characters\."), r"Utilisez au plus \1 caractères."),
    (
        re.compile(r"This password is one of the most common ones; choose another\."),
        "Ce mot de passe est l'un des plus courants ; choisissez-en un autre.",
    ),
    (
        re.compile(r"The password may not contain the username\."),
        "Le mot de passe ne peut pas contenir le nom d'utilisateur.",
    ),
    (re.compile(r"A PIN is (\d+) to (\d+) digits\."), r"Un NIP compte de \1 à \2 chiffres."),
    (re.compile(r"A PIN may not repeat one digit\."), "Un NIP ne peut pas répéter un seul chiffre."),
    (
        re.compile(r"A PIN may not be a run of digits such as 1234 or 9876\."),
        "Un NIP ne peut pas être une suite de chiffres comme 1234 ou 9876.",
    ),
]


def translate(message: str, language: str) -> str:
    if language == "fr":
        for pattern, french in FRENCH_MESSAGES:
            if pattern.fullmatch(message):
                return pattern.sub(french, message)
    return message


def page_language(request: Request, form_lang: str | None = None) -> tuple[str, bool]:
    """(language, chosen explicitly): `lang` (query or form) first, then Accept-Language, else English."""
    chosen = (form_lang or request.query_params.get("lang") or "").strip().lower()[:2]
    if chosen in LANGUAGES:
        return chosen, True
    ranked: list[tuple[float, str]] = []
    for index, item in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:  # q=0: "not this language"
            ranked.append((-quality, f"{index:04d}{tag.strip().lower()[:2]}"))
    for _, key in sorted(ranked):
        if key[4:] in LANGUAGES:
            return key[4:], False
    return "en", False


@dataclass(frozen=True)
class LinkPage:
    path: str  # as resolvers/access.py `_PATHS` writes it in mail
    kind: str  # "register" or "reset": the keys of TEXT

    def route(self, settings: Settings) -> Route:
        async def endpoint(request: Request) -> Response:
            if request.method == "POST":
                return await self.post(request, settings)
            return await self.get(request)

        return Route(f"/{self.path}", endpoint, methods=["GET", "POST"], name=f"page-{self.path}")

    async def get(self, request: Request) -> Response:
        language, explicit = page_language(request)
        token = request.query_params.get("token", "")
        problem = await access.link_problem(token, self.now())
        if problem is not None:
            return self.dead(request, language, explicit, [("token", translate(problem, language))])
        return self.render(request, language, explicit, token=token)

    @staticmethod
    def now() -> datetime:
        return RequestContext.now()

    def dead(
        self, request: Request, language: str, explicit: bool, errors: list[tuple[str, str]] | None = None
    ) -> Response:
        """The answer to a link that opens nothing (unknown, used, revoked, expired): no form."""
        errors = errors or [("token", translate(access.INVITATION_INVALID_MESSAGE, language))]
        return self.render(request, language, explicit, status=400, token="", dead=True, errors=errors)

    def refused(self, request: Request, language: str, explicit: bool) -> Response:
        """The answer to a post that fails the CSRF check: no form carrying the posted token, so a forged
        post leaves the victim no working form for an account the forger chose (the link from the
        email opens a fresh one)."""
        errors = [("form", TEXT[language]["csrf"])]
        return self.render(request, language, explicit, status=403, token="", dead=True, errors=errors)

    async def post(self, request: Request, settings: Settings) -> Response:
        form = await form_fields(request)

        def field(name: str) -> str:
            return form.get(name, "")

        language, explicit = page_language(request, field("lang"))
        token = field("token")
        if not valid_form(request, settings, form):
            return self.refused(request, language, explicit)
        password, confirm, pin = field("password"), field("confirm"), field("pin").strip()
        if password != confirm:
            return self.render(
                request, language, explicit, status=400, token=token, errors=[("confirm", TEXT[language]["mismatch"])]
            )
        ctx = request_context(request, settings)
        result, user_errors = await attempt(
            ctx, "auth.invitation_accept", lambda: access.accept_staff_invitation(ctx, token, password, pin or None)
        )
        if user_errors or result is None:
            errors = [(error_target(e), translate(e.message, language)) for e in user_errors]
            dead = any(target == "token" for target, _ in errors)
            return self.render(
                request, language, explicit, status=400, token="" if dead else token, dead=dead, errors=errors
            )
        # The page signs nobody in (it shows no token): the session the accepted link opened is ended.
        await end_session_of(result.token, "LINK_PAGE", ctx.now())
        user = result.user
        return self.render(
            request,
            language,
            explicit,
            template="link_done.html",
            organization=user.organization.name,
            organization_slug=user.organization.slug,
            username=user.username,
        )

    def render(
        self,
        request: Request,
        language: str,
        explicit: bool,
        *,
        status: int = 200,
        template: str = "link_form.html",
        token: str = "",
        dead: bool = False,
        errors: list[tuple[str, str]] | None = None,
        **values: Any,
    ) -> Response:
        text = TEXT[language]
        # One value per browser, kept while its cookie lives: a second tab does not void the first one's form.
        csrf = request.cookies.get(csrf_cookie_name(request), "")
        if not CSRF_VALUE.fullmatch(csrf):
            csrf = secrets.token_urlsafe(32)
        errors = errors or []
        by_field: dict[str, list[str]] = {}
        for target, message in errors:
            by_field.setdefault(target, []).append(message)
        html = TEMPLATES.get_template(template).render(
            lang=language,
            t=text,
            kind=self.kind,
            title=text[f"{self.kind}_title"],
            action=f"/{self.path}" + (f"?lang={language}" if explicit else ""),
            token=token,
            csrf=csrf,
            dead=dead,
            errors=errors,
            by_field=by_field,
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
        if template.endswith("_form.html") and not dead:
            secure = is_https(request)
            response.set_cookie(
                csrf_cookie_name(request), csrf, path="/", httponly=True, samesite="strict", secure=secure
            )
        return response


async def form_fields(request: Request) -> dict[str, str]:
    """The urlencoded form (what the page's form sends; anything else reads as empty and is refused by
    the CSRF check): the standard library's parser, no python-multipart. The body is already bounded
    by BodyLimitMiddleware."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # the first of a repeated field, as a browser sends one
    return fields


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_cookie_name(request: Request) -> str:
    """`__Host-` over HTTPS: a cookie no sibling subdomain can set or overwrite (it needs Secure)."""
    return "__Host-tessera_csrf" if is_https(request) else "tessera_csrf"


def valid_form(request: Request, settings: Settings, form: dict[str, str]) -> bool:
    """The double-submit check: the form's CSRF field equals its cookie, and a real Origin is ours."""
    cookie = request.cookies.get(csrf_cookie_name(request), "")
    sent = form.get(CSRF_FIELD, "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), sent.encode()) and same_origin(request, settings)


def same_origin(request: Request, settings: Settings) -> bool:
    """An Origin header, when the browser sends a real one, names this server (its Host or TESSERA_PUBLIC_URL).
    `null` (what a no-referrer page's own form sends) and no header at all are left to the CSRF token."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    host = urlsplit(origin).netloc.lower()
    own = {request.headers.get("host", "").lower(), urlsplit(settings.public_url).netloc.lower()}
    return host in own


def error_target(error: UserError) -> str:
    """Which part of the form a resolver's UserError concerns: token, password, pin, or the form."""
    name = error.field[-1] if error.field else "form"
    return name if name in {"token", "password", "pin"} else "form"


def request_context(request: Request, settings: Settings) -> RequestContext:
    """As app/graphql.py `get_context` makes it (no bearer token: these pages are public)."""
    state = request.state
    ctx = RequestContext(
        settings=settings,
        request_id=getattr(state, "request_id", ""),
        ip_address=getattr(state, "client_ip", None),
        user_agent=request.headers.get("user-agent"),
        token=None,
        authenticate=authenticate,
    )
    ctx.loaders = Loaders()
    return ctx


PAGES = (LinkPage("register", "register"), LinkPage("reset-password", "reset"))


def routes(settings: Settings) -> list[Route]:
    return [page.route(settings) for page in PAGES]
