"""Matrix rows for locations: locations, location, createLocation, updateLocation, setLocationActive.

LOCATIONS_MANAGE is org-wide (admins here); a location outside the viewer's sites is hidden like a
missing one, and another organization's is NOT_FOUND to a mutation.
"""

from __future__ import annotations

from tests.permissions.cases.base import Case, fixed, location_id
from tests.permissions.cases.expect import FORBIDDEN, HIDDEN, NOT_FOUND, OK, UNAUTHENTICATED

LIST = "{ locations { id name } }"
ONE = "query($id: ID!) { location(id: $id) { id name } }"
CREATE = """mutation($name: String!) { createLocation(input: {name: $name, timezone: "America/Toronto"}) {
  location { id } errors { code } } }"""
UPDATE = """mutation($id: ID!) { updateLocation(input: {id: $id, phone: "416-555-0111"}) {
  location { id } errors { code } } }"""
SET_ACTIVE = """mutation($id: ID!) { setLocationActive(input: {id: $id, active: false}) {
  location { id } errors { code } } }"""


def at(document: str, location: str):
    def build(w):
        return document, {"id": location_id(w, location)}

    return build


def lists(*locations: str, exact: bool = True):
    def check(w, data):
        ids = {loc["id"] for loc in data}
        wanted = {location_id(w, name) for name in locations}
        assert ids == wanted if exact else wanted <= ids, data

    return check


def none_of_org_a(w, data):
    assert not {loc["id"] for loc in data} & {str(w.a1.id), str(w.a2.id)}, data


CASES = [
    Case("every location", "locations", "admin_a", "org A", OK, fixed(LIST), lists("a1", "a2")),
    Case("own sites only", "locations", "no_group", "org A", OK, fixed(LIST), lists("a1")),
    Case("all-locations user", "locations", "restricted_a2", "org A", OK, fixed(LIST), lists("a1", "a2")),
    Case("other org sees its own", "locations", "admin_b", "org A", OK, fixed(LIST), none_of_org_a),
    Case("no token", "locations", "anonymous", "-", UNAUTHENTICATED, fixed(LIST)),
    Case("own site", "location", "front_desk_a1", "A1", OK, at(ONE, "a1")),
    Case("site not worked at", "location", "no_group", "A2", HIDDEN, at(ONE, "a2")),
    Case("other org", "location", "admin_b", "A1", HIDDEN, at(ONE, "a1")),
    Case("no token", "location", "anonymous", "A1", UNAUTHENTICATED, at(ONE, "a1")),
    Case("admin", "createLocation", "admin_a", "org A", OK, fixed(CREATE, name="Westside")),
    Case("manager lacks LOCATIONS_MANAGE", "createLocation", "manager_a1", "org A", FORBIDDEN, fixed(CREATE, name="W")),
    Case("restricted group", "createLocation", "restricted_a2", "org A", FORBIDDEN, fixed(CREATE, name="W")),
    Case("no token", "createLocation", "anonymous", "-", UNAUTHENTICATED, fixed(CREATE, name="W")),
    Case("admin", "updateLocation", "admin_a", "A1", OK, at(UPDATE, "a1")),
    Case("other org", "updateLocation", "admin_b", "A1", NOT_FOUND, at(UPDATE, "a1")),
    Case("front desk", "updateLocation", "front_desk_a1", "A1", FORBIDDEN, at(UPDATE, "a1")),
    Case("admin", "setLocationActive", "admin_a", "A2", OK, at(SET_ACTIVE, "a2")),
    Case("other org", "setLocationActive", "admin_b", "A2", NOT_FOUND, at(SET_ACTIVE, "a2")),
    Case("manager", "setLocationActive", "manager_a1", "A2", FORBIDDEN, at(SET_ACTIVE, "a2")),
]
