"""Phones keep their extension (E.164 plus ";ext=123"), a mobile with one is refused rather than cut;
a Canadian address needs a real province or territory code and an A1A 1A1 postal code, one rule for
locations and clients (resolvers/addresses.py), INVALID at the field (issue 9)."""

from __future__ import annotations

import pytest

from models.clients import Client
from resolvers.addresses import normalize_postal_code, normalize_province
from resolvers.validation import normalize_phone
from tests.resolvers.test_locations import CREATE as CREATE_LOCATION
from tests.resolvers.test_users import CREATE as CREATE_USER
from tests.resolvers.test_users import create_input

CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id mobile phones { label number } emergencyContacts { phone } address { province postalCode country } }
  errors { field code message } } }"""
UPDATE_CLIENT = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { id address { province postalCode } } errors { field code message } } }"""
UPDATE_LOCATION = """mutation($input: UpdateLocationInput!) { updateLocation(input: $input) {
  location { id address { province postalCode } } errors { field code message } } }"""


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(416) 555-0123", "+14165550123"),
        ("416-555-0123 ext. 123", "+14165550123;ext=123"),
        ("(416) 555-0123 x45", "+14165550123;ext=45"),
        ("+1 416 555 0123;ext=7", "+14165550123;ext=7"),
    ],
)
def test_a_phone_keeps_its_extension(typed, stored):
    assert normalize_phone(typed) == stored
    assert normalize_phone(stored) == stored  # what is stored reads back the same


def test_an_extension_that_cannot_be_kept_is_refused():
    with pytest.raises(ValueError, match="mobile"):
        normalize_phone("416-555-0123 ext. 123", extension=False)
    assert normalize_phone("416-555-0123", extension=False) == "+14165550123"
    with pytest.raises(ValueError, match="extension"):
        normalize_phone("416 555 0123 ext. 12345678901")


@pytest.mark.parametrize(
    ("province", "country", "stored"),
    [("on", None, "ON"), ("CA-QC", "CA", "QC"), (" yt ", "ca", "YT"), ("", None, None), ("WA", "US", "WA")],
)
def test_provinces(province, country, stored):
    assert normalize_province(province, country) == stored


@pytest.mark.parametrize(("province", "country"), [("ZZ", None), ("ZZ", "CA"), ("Ontario", "CA"), ("WA", None)])
def test_not_a_canadian_province(province, country):
    with pytest.raises(ValueError, match="Canadian province or territory"):
        normalize_province(province, country)


@pytest.mark.parametrize(
    ("postal", "country", "stored"),
    [
        ("m5v 1a1", None, "M5V 1A1"),
        ("K1A0B1", "CA", "K1A 0B1"),
        (" h3z-2y7 ", "CA", "H3Z 2Y7"),
        ("", None, None),
        ("12345", "US", "12345"),
        ("sw1a 1aa", "GB", "SW1A 1AA"),
    ],
)
def test_postal_codes(postal, country, stored):
    assert normalize_postal_code(postal, country) == stored


@pytest.mark.parametrize("postal", ["12345", "M5V1A", "M5V 1A1X", "D1A 1A1", "W1A 1A1", "M5V 1O1", "Z9Z 9Z9"])
def test_not_a_canadian_postal_code(postal):
    with pytest.raises(ValueError, match="A1A 1A1"):
        normalize_postal_code(postal, "CA")


# --------------------------------------------------------------------------- locations


async def test_a_location_refuses_a_made_up_province_and_postal_code(gql, org_a):
    address = {"line1": "1 Main St", "province": "ZZ", "postalCode": "12345"}
    body = await gql(
        CREATE_LOCATION, {"input": {"name": "Nowhere", "timezone": "UTC", "address": address}}, token=org_a.admin.token
    )
    errors = {tuple(e["field"]): e["code"] for e in body["data"]["createLocation"]["errors"]}
    assert errors == {("input", "address", "province"): "INVALID", ("input", "address", "postalCode"): "INVALID"}
    assert body["data"]["createLocation"]["location"] is None
    location = org_a.locations[0]
    body = await gql(
        UPDATE_LOCATION,
        {"input": {"id": str(location.id), "address": {"province": "qc", "postalCode": "h3z2y7"}}},
        token=org_a.admin.token,
    )
    assert body["data"]["updateLocation"]["errors"] == []
    assert body["data"]["updateLocation"]["location"]["address"] == {"province": "QC", "postalCode": "H3Z 2Y7"}
    body = await gql(
        UPDATE_LOCATION,
        {"input": {"id": str(location.id), "address": {"postalCode": "12345"}}},
        token=org_a.admin.token,
    )
    assert [(e["field"], e["code"]) for e in body["data"]["updateLocation"]["errors"]] == [
        (["input", "address", "postalCode"], "INVALID")
    ]


async def test_a_location_phone_keeps_its_extension(gql, org_a):
    body = await gql(
        CREATE_LOCATION,
        {"input": {"name": "Ext", "timezone": "UTC", "phone": "416 555 0199 ext 204"}},
        token=org_a.admin.token,
    )
    assert body["data"]["createLocation"]["errors"] == []
    assert body["data"]["createLocation"]["location"]["phone"] == "+14165550199;ext=204"


# --------------------------------------------------------------------------- clients


def _client(org, **fields):
    return {
        "firstName": "Maya",
        "lastName": "Chen",
        "locationId": str(org.locations[0].id),
        "smsConsent": False,
        **fields,
    }


async def test_a_client_refuses_a_made_up_province_and_postal_code(gql, org_a):
    body = await gql(
        CREATE_CLIENT,
        {"input": _client(org_a, address={"line1": "1 Main St", "province": "ZZ", "postalCode": "12345"})},
        token=org_a.admin.token,
    )
    errors = {tuple(e["field"]): e["code"] for e in body["data"]["createClient"]["errors"]}
    assert errors == {("input", "address", "province"): "INVALID", ("input", "address", "postalCode"): "INVALID"}
    assert not await Client.exists(last_name="Chen")
    body = await gql(
        CREATE_CLIENT,
        {"input": _client(org_a, address={"province": "ca-on", "postalCode": "m5v1a1"})},
        token=org_a.admin.token,
    )
    assert body["data"]["createClient"]["errors"] == []
    client = body["data"]["createClient"]["client"]
    assert client["address"] == {"province": "ON", "postalCode": "M5V 1A1", "country": None}
    body = await gql(
        UPDATE_CLIENT, {"input": {"id": client["id"], "address": {"province": "ZZ"}}}, token=org_a.admin.token
    )
    assert [(e["field"], e["code"]) for e in body["data"]["updateClient"]["errors"]] == [
        (["input", "address", "province"], "INVALID")
    ]
    # Another country: its own subdivision codes, its postal code as typed.
    body = await gql(
        UPDATE_CLIENT,
        {"input": {"id": client["id"], "address": {"province": "WA", "postalCode": "98101", "country": "US"}}},
        token=org_a.admin.token,
    )
    assert body["data"]["updateClient"]["errors"] == []
    assert body["data"]["updateClient"]["client"]["address"] == {"province": "WA", "postalCode": "98101"}


async def test_a_client_phone_keeps_its_extension_and_a_mobile_may_not_have_one(gql, org_a):
    fields = {
        "phones": [{"label": "Work", "number": "416-555-0123 ext. 123"}],
        "emergencyContacts": [{"name": "Li Chen", "phone": "(416) 555-0124 x9"}],
    }
    body = await gql(CREATE_CLIENT, {"input": _client(org_a, **fields)}, token=org_a.admin.token)
    assert body["data"]["createClient"]["errors"] == []
    client = body["data"]["createClient"]["client"]
    assert client["phones"] == [{"label": "Work", "number": "+14165550123;ext=123"}]
    assert client["emergencyContacts"] == [{"phone": "+14165550124;ext=9"}]
    body = await gql(
        CREATE_CLIENT,
        {"input": _client(org_a, lastName="Mobile", mobile="416-555-0125 ext. 7")},
        token=org_a.admin.token,
    )
    assert [(e["field"], e["code"]) for e in body["data"]["createClient"]["errors"]] == [
        (["input", "mobile"], "INVALID")
    ]


# --------------------------------------------------------------------------- users


async def test_a_user_phone_keeps_its_extension(gql, org_a):
    body = await gql(
        CREATE_USER, {"input": create_input("ext", contact={"phone": "416-555-0123 ext. 123"})}, token=org_a.admin.token
    )
    assert body["data"]["createUser"]["errors"] == []
    assert body["data"]["createUser"]["user"]["phone"] == "+14165550123;ext=123"
