"""Schema-driven bad-input sweep (docs/architecture.md "API conventions"): nasty values in every
String/ID/Int/Date/DateTime input.

From the built schema, every Mutation field and every Query field with arguments gets a valid-shaped
input (required fields filled with plausible values: real rows of org A, or random UUIDs); then, one
input field at a time, each nasty value of its type replaces the plausible one and the document is sent
as org A's admin (who holds every permission, so validation, not permissions, answers).

Each (operation, field) is one test item. For every value sent:
- HTTP 200 (or 400, a transport-level refusal);
- no error is "Internal server error" / INTERNAL_SERVER_ERROR (a masked unexpected exception);
- every top-level error carries `extensions.code`;
- a mutation whose payload has errors (or that answers top-level errors) changed nothing
  (`tests.permissions.world.fingerprint`).

One field at a time, never a cross product of fields: each field gets every value of its type's list
(about 2,200 requests, 15 to 20 seconds per backend). Should the lists grow past the minute, sample
them per field here rather than dropping fields.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from models.organization import Location
from models.users import User
from permissions.catalog import Permission
from schema.api import build_schema
from tests.factories import PASSWORD, Factory, Org, make_client, make_provider
from tests.permissions.world import fingerprint
from tests.support import BACKEND, GQL

SCHEMA = build_schema(True)._schema
SWEPT = ("String", "ID", "Int", "Date", "DateTime")
MASKED = "Internal server error"

# --------------------------------------------------------------------------- nasty values

LONG = "x" * 10_000
OTHER_ORG = object()  # placeholder: another organization's real id of the field's kind
RANDOM_ID = object()  # placeholder: a random UUID

STRINGS: list[tuple[str, Any]] = [
    ("empty", ""),
    ("whitespace", " \t\n "),
    ("long", LONG),
    ("nul", "ab\u0000cd"),
    ("surrogate", "\udc80"),
    ("emoji", "\U0001fa7a\U0001f469\U0001f3fd\u200d\u2695\ufe0f"),
    ("rtl", "\u202eabc\u200f\u200e"),
    ("percent", "%"),
    ("underscore", "_"),
    ("sql", "'; DROP TABLE users; --"),
    ("dotdot", "../../etc/passwd"),
    # 100 characters that lower() doubles: a length checked before lowercasing is not the key's.
    ("lower_expands", "\u0130" * 100),
    ("fits_200", "y" * 200),
    # Shapes that once reached the database unvalidated (issue 13): a tzdata directory as a timezone,
    # a non-ASCII province, a well-formed but over-long language tag, a 50,000-character search.
    ("tz_directory", "America"),
    ("non_ascii_code", "ÉÎ"),
    ("long_tag", "en-" + "-".join(["abcdefgh"] * 8)),
    ("huge", "z" * 50_000),
]
IDS: list[tuple[str, Any]] = [
    ("empty", ""),
    ("whitespace", "  "),
    ("malformed", "not-a-uuid"),
    ("almost_uuid", "12345678-1234-1234-1234-1234567890zz"),
    ("nul", "\u0000"),
    ("long", "1" * 10_000),
    ("dotdot", "../"),
    ("percent", "%"),
    ("sql", "'; DROP TABLE users; --"),
    ("surrogate", "\udc80"),
    ("int", -1),
    ("other_org", OTHER_ORG),
    ("random_uuid", RANDOM_ID),
]
INTS: list[tuple[str, Any]] = [
    ("minus_one", -1),
    ("zero", 0),
    ("int32_overflow", 2**31),
    ("int32_max", 2**31 - 1),
    ("int32_min", -(2**31)),
    ("huge", 10**20),
    ("string", "1"),
]
DATES: list[tuple[str, Any]] = [
    ("year_1", "0001-01-01"),
    ("year_9999", "9999-12-31"),
    ("feb_30", "2026-02-30"),
    ("month_13", "2026-13-01"),
    ("empty", ""),
    ("datetime", "1990-05-17T00:00:00"),
    ("garbage", "not-a-date"),
    ("nul", "\u0000"),
]
DATETIMES: list[tuple[str, Any]] = [
    ("no_offset", "2030-01-01T10:00:00"),
    ("year_1", "0001-01-01T00:00:00+00:00"),
    ("year_1_east", "0001-01-01T00:00:00+14:00"),
    ("year_9999", "9999-12-31T23:59:59+00:00"),
    ("year_9999_west", "9999-12-31T23:59:59-14:00"),
    ("feb_30", "2026-02-30T00:00:00Z"),
    ("date_only", "2030-01-01"),
    ("empty", ""),
    ("garbage", "yesterday"),
    ("nul", "\u0000"),
]


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


# Forged `after` cursors: well-formed base64 JSON whose values are the wrong shape for the sort keys
# (2 keys for providers, 3 for users and clients, a datetime and an id for the audit trail).
CURSORS: list[tuple[str, Any]] = [
    *[(f"cursor_ints_{n}", cursor(*range(n))) for n in (2, 3)],
    *[(f"cursor_nul_{n}", cursor(*["\u0000"] * n)) for n in (2, 3)],
    *[(f"cursor_long_{n}", cursor(*[LONG] * n)) for n in (2, 3)],
    *[(f"cursor_nulls_{n}", cursor(*[None] * n)) for n in (2, 3)],
    *[(f"cursor_objects_{n}", cursor(*[{"a": 1}] * n)) for n in (2, 3)],
    ("cursor_bad_id", cursor("a", "b", "not-a-uuid")),
    ("cursor_audit_naive", cursor("2026-01-01T00:00:00", str(uuid.uuid4()))),
    ("cursor_audit_year_1", cursor("0001-01-01T00:00:00+14:00", str(uuid.uuid4()))),
    ("cursor_audit_bad_id", cursor("2026-01-01T00:00:00+00:00", "not-a-uuid")),
    # JSON nested past Python's recursion limit, and text keys holding a lone surrogate (legal JSON, but
    # no driver can send it): audit 51.
    ("cursor_nested", base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()),
    *[(f"cursor_surrogate_{n}", cursor(*["\ud800"] * (n - 1), str(uuid.uuid4()))) for n in (2, 3)],
    ("cursor_over_the_limit", base64.urlsafe_b64encode(b'["' + b"a" * 9000 + b'"]').decode()),
]
VALUES = {"String": STRINGS, "ID": IDS, "Int": INTS, "Date": DATES, "DateTime": DATETIMES}
# --------------------------------------------------------------------------- the schema walk


def unwrap(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def leaves(type_: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """(path, scalar name) of every swept scalar reachable in an input type; lists step into [0]."""
    type_ = unwrap(type_)
    if isinstance(type_, GraphQLList):
        return leaves(type_.of_type, (*path, 0))
    if isinstance(type_, GraphQLInputObjectType):
        found: list[tuple[tuple[Any, ...], str]] = []
        for name, field in type_.fields.items():
            found.extend(leaves(field.type, (*path, name)))
        return found
    if isinstance(type_, GraphQLScalarType) and type_.name in SWEPT:
        return [(path, type_.name)]
    return []


ROOTS = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type}


def operations() -> list[tuple[str, str]]:
    found = [("mutation", name) for name in SCHEMA.mutation_type.fields]
    found += [("query", name) for name, f in SCHEMA.query_type.fields.items() if f.args]
    return found


def kind_of(operation: str) -> str | None:
    """Which row an operation's own `id` names."""
    lowered = operation.lower()
    for needle, kind in (
        ("session", "session"),
        ("group", "group"),
        ("provider", "provider"),
        ("client", "client"),
        ("location", "location"),
        ("credentials", "user"),
        ("user", "user"),
    ):
        if needle in lowered:
            return kind
    return None


ID_KINDS = {
    "locationId": "location",
    "locationIds": "location",
    "userIds": "user",
    "memberIds": "user",
    "addMemberIds": "user",
    "removeMemberIds": "user",
    "actorId": "user",
    "targetId": "user",
    "permissionGroupId": "group",
    "permissionGroupIds": "group",
    "primaryProviderId": "provider",
    "reassignClientsToProviderId": "provider",
}

STRING_HINTS = {
    "organizationSlug": "clinic-a",
    "username": "sweeper",
    "password": "amber-meadow-kettle-73",
    "newPassword": "amber-meadow-kettle-73",
    "currentPassword": PASSWORD,
    "pin": "4827",
    "newPin": "5938",
    "token": "tsi_" + "a" * 43,
    "timezone": "America/Toronto",
    "email": "sweep@clinic.example",
    "phone": "+14165550123",
    "mobile": "+14165550124",
    "number": "+14165550125",
    "name": "Sweep name",
    "firstName": "Sam",
    "lastName": "Sweep",
    "label": "home",
    "healthCardProvince": "ON",
    "healthCardNumber": "9876543217",
    "province": "ON",
    "country": "CA",
    "postalCode": "M5V 2T6",
    "preferredLanguage": "en",
    "profileImageUrl": "https://images.example/sweep.png",
}


UNIQUE = {"name": "Sweep name {}", "username": "sweeper{}", "email": "sweep{}@clinic.example"}


def unique(name: str, value: str) -> str:
    """Names, usernames and emails fresh per value sent: a value that went through must not turn
    the next one into a DUPLICATE refusal (which would hide what the field's own check does)."""
    template = UNIQUE.get(name)
    return template.format(uuid.uuid4().hex[:8]) if template else value


@dataclass
class Rows:
    """Real rows of one organization, by kind."""

    location: str
    user: str
    group: str
    provider: str
    client: str
    session: str

    def get(self, kind: str) -> str:
        return str(getattr(self, kind))


@dataclass
class Sweep:
    a: Rows
    b: Rows

    def plausible(self, operation: str, name: str, scalar: Any) -> Any:
        """A valid-looking value for a field named `name` of type `scalar` (enum or scalar)."""
        if isinstance(scalar, GraphQLEnumType):
            if scalar.name == "Permission":
                return Permission.USERS_READ.name
            return next(iter(scalar.values))
        kind = self.kind(operation, name)
        match scalar.name:
            case "ID":
                return self.a.get(kind) if kind else str(uuid.uuid4())
            case "String":
                return unique(name, STRING_HINTS.get(name, "sample"))
            case "Int":
                return 10 if name == "first" else 1
            case "Boolean":
                return False
            case "Date":
                return "1990-05-17"
            case "DateTime":
                return (datetime.now(UTC) + timedelta(days=30)).isoformat()
            case "JSON":
                return {}
        raise AssertionError(f"no plausible value for {scalar.name}")

    def kind(self, operation: str, name: str) -> str | None:
        if name == "id":
            return kind_of(operation)
        return ID_KINDS.get(name)

    def build(self, operation: str, name: str, type_: Any) -> Any:
        """A value for an input of `type_`: required fields only, each plausible."""
        type_ = unwrap(type_)
        if isinstance(type_, GraphQLList):
            return [self.build(operation, name, type_.of_type)]
        if isinstance(type_, GraphQLInputObjectType):
            return {
                fname: self.build(operation, fname, f.type)
                for fname, f in type_.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
            }
        return self.plausible(operation, name, type_)

    def resolve(self, operation: str, name: str, value: Any) -> Any:
        if value is OTHER_ORG:
            kind = self.kind(operation, name) or "user"
            return self.b.get(kind)
        if value is RANDOM_ID:
            return str(uuid.uuid4())
        return value


# Optional fields without which the base input is refused whatever the swept field holds (SMS
# consent is on by default and needs a mobile; enabled access needs an email).
BASE_EXTRAS: dict[str, dict[str, dict[str, Any]]] = {
    "createClient": {"input": {"mobile": "+14165550124"}},
    "createUser": {"contact": {"email": "sweep@clinic.example"}},
}


def base_variables(sweep: Sweep, operation: str, field: GraphQLField) -> dict[str, Any]:
    variables = {
        arg: sweep.build(operation, arg, a.type)
        for arg, a in field.args.items()
        if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
    }
    for key, extra in BASE_EXTRAS.get(operation, {}).items():
        target = variables["input"] if key == "input" else variables["input"][key]
        target.update({k: unique(k, v) for k, v in extra.items()})
    return variables


def put(
    sweep: Sweep, operation: str, variables: dict[str, Any], field: GraphQLField, path: tuple[Any, ...], value: Any
) -> dict[str, Any]:
    """`variables` with `value` at `path` (argument name first), building what lies on the way."""
    arg, *rest = path
    type_: Any = field.args[arg].type
    if not rest:
        variables[arg] = value
        return variables
    if arg not in variables or variables[arg] is None:
        variables[arg] = sweep.build(operation, arg, type_)
    container = variables[arg]
    type_ = unwrap(type_)
    name = arg
    for index, step in enumerate(rest):
        last = index == len(rest) - 1
        if isinstance(type_, GraphQLList):
            inner = unwrap(type_.of_type)
            if last:
                container[0] = value
                return variables
            if not container:
                container.append(sweep.build(operation, name, inner))
            container, type_ = container[0], inner
            continue
        assert isinstance(type_, GraphQLInputObjectType)
        ftype = type_.fields[step].type
        name = step
        if last:
            container[step] = value
            return variables
        if container.get(step) is None:
            container[step] = sweep.build(operation, step, ftype)
        container, type_ = container[step], unwrap(ftype)
    return variables


def selection(type_: Any, depth: int = 0) -> str:
    """What to ask of a root field's result: the payload's errors, the ids of what it returns."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if name == "errors" and depth == 0:
            parts.append("errors { field message code }")
        elif isinstance(inner, GraphQLScalarType | GraphQLEnumType) and depth > 0:
            parts.append(name)
        elif name == "id":
            parts.append("id")
        elif isinstance(inner, GraphQLObjectType) and (
            (depth == 0 and name != "pageInfo") or (name in ("edges", "node") and depth < 3)
        ):
            parts.append(f"{name} {selection(field.type, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


def document(kind: str, operation: str, field: GraphQLField) -> str:
    params = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    args = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    call = f"{operation}({args})" if args else operation
    head = f"{kind} Sweep({params})" if params else kind
    return f"{head} {{ {call} {selection(field.type)} }}"


# --------------------------------------------------------------------------- cases

# Crashes found and not yet fixed, as (operation, field) -> (expected to fail, why): none left.
KNOWN: dict[tuple[str, str], tuple[bool, str]] = {}


def cases() -> list[Any]:
    params = []
    for kind, operation in operations():
        field = ROOTS[kind].fields[operation]
        for arg, a in field.args.items():
            for path, scalar in leaves(a.type, (arg,)):
                dotted = ".".join(str(p) for p in path)
                marks = []
                known = KNOWN.get((operation, dotted))
                if known is not None and known[0]:
                    marks.append(pytest.mark.xfail(strict=True, reason=known[1]))
                params.append(pytest.param(kind, operation, path, scalar, id=f"{operation}:{dotted}", marks=marks))
    return params


async def rows(factory: Factory, org: Org) -> Rows:
    location: Location = org.locations[0]
    group = await factory.group(org.organization, [Permission.USERS_READ], locations=[location])
    staff = await factory.user(org.organization, locations=[location], groups=[group])
    provider_user = await factory.user(org.organization, locations=[location], session=False)
    provider = await make_provider(provider_user.user, "Dr Sweep")
    client = await make_client(org, location, "Cora", "Sweep", provider=provider)
    return Rows(
        location=str(location.id),
        user=str(staff.user.id),
        group=str(group.id),
        provider=str(provider.id),
        client=str(client.id),
        session=str(staff.session.id),
    )


def encode(query: str, variables: dict[str, Any]) -> bytes:
    """JSON with \\u escapes: the only way a lone surrogate can travel (httpx's json= cannot encode it)."""
    return json.dumps({"query": query, "variables": variables}, ensure_ascii=True).encode()


def problems_in(body: Any, status: int) -> list[str]:
    found = []
    if status not in (200, 400):
        found.append(f"HTTP {status}")
    if not isinstance(body, dict):
        return [*found, f"body is not a JSON object: {body!r:.200}"]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            found.append(f"top-level error without extensions.code: {error.get('message')!r:.200}")
        if code == "INTERNAL_SERVER_ERROR" or error.get("message") == MASKED:
            found.append("Internal server error")
    return found


def payload_errors(body: dict[str, Any], operation: str) -> list[Any]:
    payload = (body.get("data") or {}).get(operation)
    if isinstance(payload, dict):
        return payload.get("errors") or []
    return []


@pytest.mark.parametrize(("kind", "operation", "path", "scalar"), cases())
async def test_bad_input(
    gql: GQL, factory: Factory, org_a: Org, org_b: Org, kind: str, operation: str, path: tuple[Any, ...], scalar: str
) -> None:
    field = ROOTS[kind].fields[operation]
    sweep = Sweep(a=await rows(factory, org_a), b=await rows(factory, org_b))
    query = document(kind, operation, field)
    admin: User = org_a.admin.user
    failures: list[str] = []
    values = VALUES[scalar] + (CURSORS if path == ("after",) else [])
    for label, raw in values:
        value = sweep.resolve(operation, str(path[-1] if isinstance(path[-1], str) else path[-2]), raw)
        variables = put(sweep, operation, base_variables(sweep, operation, field), field, path, value)
        # A fresh session per value: a refused unlockWithPin or a changed password must not end the
        # session the next value is sent with.
        token, _ = await factory.session(admin)
        before = await fingerprint() if kind == "mutation" else None
        response = await gql.http.post(
            "/graphql",
            content=encode(query, variables),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        found = problems_in(body, response.status_code)
        refused = isinstance(body, dict) and (body.get("errors") or payload_errors(body, operation))
        if kind == "mutation" and refused and await fingerprint() != before:
            found.append("refused, yet the database changed")
        if found:
            failures.append(f"{label}: {'; '.join(found)} -> {str(body)[:300]}")
    assert not failures, f"{operation} {'.'.join(map(str, path))} ({BACKEND}):\n" + "\n".join(failures)


def test_every_root_field_with_input_is_swept() -> None:
    """Only these have no String/ID/Int/Date/DateTime input to sweep (a Boolean, or nothing)."""
    swept = {p.values[1] for p in cases()}
    assert {name for _, name in operations()} - swept == {"locations", "logout"}


@pytest.mark.parametrize("operation", ["createLocation", "createUser", "createPermissionGroup", "createClient"])
async def test_the_base_input_goes_through(gql: GQL, factory: Factory, org_a: Org, org_b: Org, operation: str) -> None:
    """The sweep's valid-shaped inputs are valid: a refusal it sees comes from the swept field."""
    field = SCHEMA.mutation_type.fields[operation]
    sweep = Sweep(a=await rows(factory, org_a), b=await rows(factory, org_b))
    body = await gql(
        document("mutation", operation, field), base_variables(sweep, operation, field), token=org_a.admin.token
    )
    assert "errors" not in body, body
    assert body["data"][operation]["errors"] == [], body


@pytest.mark.parametrize("label", [label for label, _ in CURSORS])
async def test_a_nested_connection_refuses_a_forged_cursor(gql: GQL, factory: Factory, org_a: Org, label: str) -> None:
    """The connections below a root field (a group's members, a provider's clients) decode the same
    cursors as the root lists, which the sweep covers: a forged one is BAD_USER_INPUT there too."""
    after = dict(CURSORS)[label]
    group = await factory.group(org_a.organization, [Permission.USERS_READ])
    staff = await factory.user(org_a.organization, locations=[org_a.locations[0]], session=False)
    provider = await make_provider(staff.user, "Nested Cursor")
    members = """query($id: ID!, $a: String) { permissionGroup(id: $id) {
      members(first: 2, after: $a) { edges { node { id } } } } }"""
    clients = """query($id: ID!, $a: String) { provider(id: $id) {
      clients(first: 2, after: $a) { edges { node { id } } } } }"""
    for query, id_ in ((members, group.id), (clients, provider.id)):
        body = await gql(query, {"id": str(id_), "a": after}, token=org_a.admin.token)
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        assert codes == ["BAD_USER_INPUT"], body
