"""Mail templates, plain text and HTML, in English and French (the recipient's language)."""

from __future__ import annotations

import html
from string import Template
from typing import Any

# template -> language -> (subject, text body); the HTML body is the text, escaped, with links.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "staff_registration": {
        "en": (
            "Your $organization account",
            "Hello $first_name,\n\n$organization has given you access to Tessera. Create your password with this "
            "link (valid until $expires):\n\n$link\n\nThen log in with:\n\nOrganization: $organization_slug\n"
            "Username: $username\n\nIf you did not expect this email, ignore it.",
        ),
        "fr": (
            "Votre compte $organization",
            "Bonjour $first_name,\n\n$organization vous a donné accès à Tessera. Créez votre mot de passe avec ce "
            "lien (valide jusqu'au $expires) :\n\n$link\n\nConnectez-vous ensuite avec :\n\n"
            "Organisation : $organization_slug\nNom d'utilisateur : $username\n\n"
            "Si vous n'attendiez pas ce courriel, ignorez-le.",
        ),
    },
    "password_reset": {
        "en": (
            "Reset your $organization password",
            "Hello $first_name,\n\nAn administrator of $organization asked for your password to be reset. Choose a "
            "new one with this link (valid until $expires):\n\n$link",
        ),
        "fr": (
            "Réinitialisez votre mot de passe $organization",
            "Bonjour $first_name,\n\nUn administrateur de $organization a demandé la réinitialisation de votre mot "
            "de passe. Choisissez-en un nouveau avec ce lien (valide jusqu'au $expires) :\n\n$link",
        ),
    },
    # Noterro "User Accounts": an invitation to manage a client's appointments (proxy access).
    "client_invitation": {
        "en": (
            "$organization invites you to manage appointments for $client_name",
            "Hello,\n\n$organization invites you to manage the appointments of $client_name online. Create an "
            "account or log in to accept with this link (valid until $expires):\n\n$link\n\n"
            "If you did not expect this email, ignore it.",
        ),
        "fr": (
            "$organization vous invite à gérer les rendez-vous de $client_name",
            "Bonjour,\n\n$organization vous invite à gérer en ligne les rendez-vous de $client_name. Créez un "
            "compte ou connectez-vous pour accepter avec ce lien (valide jusqu'au $expires) :\n\n$link\n\n"
            "Si vous n'attendiez pas ce courriel, ignorez-le.",
        ),
    },
    # The same, when the clinic set a verification code: the invitee gets it by phoning the clinic.
    "client_invitation_code": {
        "en": (
            "$organization invites you to manage appointments for $client_name",
            "Hello,\n\n$organization invites you to manage the appointments of $client_name online. Create an "
            "account or log in to accept with this link (valid until $expires):\n\n$link\n\n"
            "You will be asked for a verification code: call $organization to get it.",
        ),
        "fr": (
            "$organization vous invite à gérer les rendez-vous de $client_name",
            "Bonjour,\n\n$organization vous invite à gérer en ligne les rendez-vous de $client_name. Créez un "
            "compte ou connectez-vous pour accepter avec ce lien (valide jusqu'au $expires) :\n\n$link\n\n"
            "Un code de vérification vous sera demandé : appelez $organization pour l'obtenir.",
        ),
    },
    # Create client: the client's own claim email for the portal, valid 72 hours.
    "portal_claim": {
        "en": (
            "Your $organization client portal account",
            "Hello $first_name,\n\n$organization has created your client profile. Claim your online account to "
            "book and manage your appointments with this link (valid until $expires):\n\n$link",
        ),
        "fr": (
            "Votre compte du portail client $organization",
            "Bonjour $first_name,\n\n$organization a créé votre dossier client. Activez votre compte en ligne pour "
            "réserver et gérer vos rendez-vous avec ce lien (valide jusqu'au $expires) :\n\n$link",
        ),
    },
}


def render(template: str, language: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for `template` in `language` (English when there is no translation)."""
    by_language = TEMPLATES[template]
    subject, body = by_language.get(language[:2].lower(), by_language["en"])
    safe = {k: str(v) for k, v in values.items()}
    text = Template(body).safe_substitute(safe)
    escaped = {k: html.escape(v) for k, v in safe.items()}
    html_body = Template(html.escape(body)).safe_substitute(escaped)
    link = escaped.get("link")
    if link:
        html_body = html_body.replace(link, f'<a href="{link}">{link}</a>')
    html_doc = f"<!doctype html><html><body><p>{html_body.replace(chr(10) * 2, '</p><p>')}</p></body></html>"
    # A subject is one header line: a newline in a value (a name) must not start another header.
    return " ".join(Template(subject).safe_substitute(safe).split()), text, html_doc
