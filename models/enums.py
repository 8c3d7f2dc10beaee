"""Enumerations stored in the database. The API exposes the same enums (schema/ wraps them)."""

from enum import Enum


class UserType(str, Enum):
    PROVIDER = "PROVIDER"
    FRONT_DESK = "FRONT_DESK"
    BILLING = "BILLING"
    MANAGER = "MANAGER"
    OTHER = "OTHER"


class AccountStatus(str, Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    LOCKED = "LOCKED"


class AccessStatus(str, Enum):
    NO_ACCESS = "NO_ACCESS"
    INVITED = "INVITED"
    ENABLED = "ENABLED"


class BillingRole(str, Enum):
    BILLING_PROVIDER = "BILLING_PROVIDER"
    SUPERVISED = "SUPERVISED"
    NON_BILLING = "NON_BILLING"


class ProviderStatus(str, Enum):
    ACTIVE = "ACTIVE"
    DEACTIVATION_SCHEDULED = "DEACTIVATION_SCHEDULED"
    INACTIVE = "INACTIVE"


class ClientStatus(str, Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    PENDING_REVIEW = "PENDING_REVIEW"
    MERGED = "MERGED"


# The one rule for an "open" client, one on a provider's caseload: "My Clients", a provider's
# `clientCount` and its `clients` list all count exactly these (archived, merged-away and
# not yet reviewed clients are not), so the count always matches the lists.
OPEN_CLIENT_STATUS = ClientStatus.ACTIVE


class ClientSource(str, Enum):
    STAFF = "STAFF"
    ONLINE_REGISTRATION = "ONLINE_REGISTRATION"
    IMPORT = "IMPORT"


class HealthCardCheck(str, Enum):
    NOT_CHECKED = "NOT_CHECKED"
    VALID = "VALID"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_CHECK_DIGIT = "INVALID_CHECK_DIGIT"


class ProxyRelationship(str, Enum):
    """Who a portal account is to the client it acts for (article 001: proxy access)."""

    SELF = "SELF"
    PARENT = "PARENT"
    GUARDIAN = "GUARDIAN"
    SPOUSE = "SPOUSE"
    CAREGIVER = "CAREGIVER"
    OTHER = "OTHER"


class InvitationStatus(str, Enum):
    """A client invitation's status, computed from its row and the clock (never stored)."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class ActorKind(str, Enum):
    USER = "USER"
    PORTAL_ACCOUNT = "PORTAL_ACCOUNT"
    INTEGRATION = "INTEGRATION"
    SYSTEM = "SYSTEM"
    ANONYMOUS = "ANONYMOUS"


class AuditTarget(str, Enum):
    """What an audit event is about (`AuditEvent.target_type`), spelled as the API's type names.

    Rows written before this enum may say "client" (lower case): reading is case-insensitive
    (`AuditTarget("client") is AuditTarget.CLIENT`), so filters and checks see one spelling."""

    CLIENT = "Client"
    CLIENT_INVITATION = "ClientInvitation"
    CLIENT_PORTAL_LINK = "ClientPortalLink"
    INTEGRATION = "Integration"
    LOCATION = "Location"
    PERMISSION_GROUP = "PermissionGroup"
    PORTAL_ACCOUNT = "PortalAccount"
    PROVIDER = "Provider"
    PORTAL_SESSION = "PortalSession"
    SESSION = "Session"
    USER = "User"

    @classmethod
    def _missing_(cls, value: object) -> "AuditTarget | None":
        text = str(value).strip().lower()
        return next((member for member in cls if member.value.lower() == text), None)


class LoginOutcome(str, Enum):
    FAILED = "FAILED"
    THROTTLED = "THROTTLED"


class StaffTokenPurpose(str, Enum):
    REGISTRATION = "REGISTRATION"
    PASSWORD_RESET = "PASSWORD_RESET"


class OutboxStatus(str, Enum):
    """EXPIRED: never delivered, and its link expired first; its bodies were purged and it is never sent."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class EmailDelivery(str, Enum):
    """When a registration email goes out (Onvio: now, or later from the access tab)."""

    SEND_NOW = "SEND_NOW"
    SEND_LATER = "SEND_LATER"
