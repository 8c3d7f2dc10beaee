"""The page a client invitation's link opens (issue 10): `/invitation?token=`.

The same kind of page as app/pages.py's staff link pages, with the same protections (strict CSP, no
script, double-submit CSRF, the token only in the POST body and never in a log). It asks what the
invitation needs (the verification code the clinic gave by phone, the client's date of birth) and
a password: to create the portal account for the invited email, or, when that email has an account
already, to log in to it. It then runs the very resolvers of `portalLogin` and
`acceptClientInvitation`, and shows the organization code and email to log in to the portal with.
Like the staff pages it signs nobody in: a session it opened is ended at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.pages import TEXT, LinkPage, form_fields, page_language, request_context, translate, valid_form
from app.settings import Settings
from resolvers import invitations, portal_auth
from schema.errors import UserError, attempt

TEXT["en"].update(
    {
        "invitation_title": "Manage appointments online",
        "invitation_intro": "{organization} invites {email} to manage the appointments of {client} online.",
        "code": "Verification code",
        "code_hint": "Six digits: call the clinic to get it.",
        "date_of_birth": "Date of birth of {client}",
        "new_account": "Create your password for the client portal.",
        "existing_account": "You already have a portal account with this email: enter its password.",
        "portal_password": "Password",
        "first_name": "First name (optional)",
        "last_name": "Last name (optional)",
        "accept": "Accept the invitation",
        "done_invitation": "You can now manage the appointments of {client}.",
        "portal_login_with": "Log in to the client portal with:",
        "email": "Email",
        "portal_password_reminder": "and your password.",
    }
)
TEXT["fr"].update(
    {
        "invitation_title": "Gérer des rendez-vous en ligne",
        "invitation_intro": "{organization} invite {email} à gérer en ligne les rendez-vous de {client}.",
        "code": "Code de vérification",
        "code_hint": "Six chiffres : appelez la clinique pour l'obtenir.",
        "date_of_birth": "Date de naissance de {client}",
        "new_account": "Créez votre mot de passe pour le portail client.",
        "existing_account": "Vous avez déjà un compte du portail avec ce courriel : entrez son mot de passe.",
        "portal_password": "Mot de passe",
        "first_name": "Prénom (facultatif)",
        "last_name": "Nom (facultatif)",
        "accept": "Accepter l'invitation",
        "done_invitation": "Vous pouvez maintenant gérer les rendez-vous de {client}.",
        "portal_login_with": "Connectez-vous au portail client avec :",
        "email": "Courriel",
        "portal_password_reminder": "et votre mot de passe.",
    }
)
FORM_FIELDS = {"token", "verificationCode", "dateOfBirth", "password", "newAccount"}


class InvitationPage(LinkPage):
    """`/invitation`: a LinkPage whose form and outcome are the portal's."""

    async def get(self, request: Request) -> Response:
        language, explicit = page_language(request)
        view = await invitations.invitation_view(request.query_params.get("token", ""), self.now())
        if view is None:
            return self.dead(request, language, explicit)
        return self.form(request, language, explicit, view, token=request.query_params.get("token", ""))

    async def post(self, request: Request, settings: Settings) -> Response:
        form = await form_fields(request)
        language, explicit = page_language(request, form.get("lang"))
        token = form.get("token", "")
        if not valid_form(request, settings, form):
            return self.refused(request, language, explicit)
        view = await invitations.invitation_view(token, self.now())
        if view is None:
            return self.dead(request, language, explicit)
        if not view.has_account and form.get("password", "") != form.get("confirm", ""):
            mismatch = [("confirm", TEXT[language]["mismatch"])]
            return self.form(request, language, explicit, view, token=token, status=400, errors=mismatch)
        ctx = request_context(request, settings)
        try:
            result, errors = await attempt(ctx, "client.invitation_accept", lambda: self.accept(ctx, view, token, form))
        finally:
            if ctx.token:  # a session opened on the way (a login, a new account): this page holds none
                await portal_auth.end_portal_session_of(ctx.token, "LINK_PAGE", ctx.now())
        if errors or result is None:
            shown = [(_target(e), translate(e.message, language)) for e in errors]
            if any(target == "token" for target, _ in shown):
                return self.dead(request, language, explicit, shown)
            return self.form(request, language, explicit, view, token=token, status=400, errors=shown)
        return self.show(
            request, language, explicit, view, template="invitation_done.html", organization_slug=view.organization.slug
        )

    @staticmethod
    async def accept(ctx: Any, view: invitations.InvitationView, token: str, form: dict[str, str]) -> Any:
        """Log in to the invited email's account first when it has one; then accept as the API does."""
        birth = _date(form.get("dateOfBirth", ""))
        data = invitations.AcceptData(
            token=token, verification_code=form.get("verificationCode") or None, date_of_birth=birth
        )
        if view.has_account:
            await portal_auth.portal_login(ctx, view.organization.slug, view.email, form.get("password", ""))
        else:
            data.new_account = invitations.NewAccountData(
                password=form.get("password", ""),
                first_name=form.get("firstName") or None,
                last_name=form.get("lastName") or None,
            )
        return await invitations.accept_invitation(ctx, data)

    def form(
        self, request: Request, language: str, explicit: bool, view: invitations.InvitationView, **values: Any
    ) -> Response:
        return self.show(
            request,
            language,
            explicit,
            view,
            template="invitation_form.html",
            needs_code=view.needs_code,
            needs_date_of_birth=view.needs_date_of_birth,
            has_account=view.has_account,
            **values,
        )

    def show(
        self, request: Request, language: str, explicit: bool, view: invitations.InvitationView, **values: Any
    ) -> Response:
        """A page about one invitation (its form, or its outcome): both name its client, organization and
        invited email."""
        return self.render(
            request,
            language,
            explicit,
            client=view.client_first_name,
            organization=view.organization.name,
            email=view.email,
            **values,
        )


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _target(error: UserError) -> str:
    """Which part of the form a resolver's UserError concerns."""
    name = error.field[-1] if error.field else "form"
    return name if name in FORM_FIELDS else "form"


def routes(settings: Settings) -> list[Route]:
    return [InvitationPage("invitation", "invitation").route(settings)]
