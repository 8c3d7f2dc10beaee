"""docs/architecture.md "Data": a model fills its own search keys (`models/keys.py`), from the one rule
`search_key` (lowercase, accents kept, the dotted capital I left as is so a key never outgrows its
column), on create, save, `save(update_fields=...)` and `bulk_create`; a queryset `.update` writes
`Model.keys_for(values)`. Read back from the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from models.clients import Client
from models.groups import PermissionGroup
from models.keys import search_key
from models.organization import Location
from models.providers import Provider
from models.users import User
from tests.factories import make_client, make_provider

DOTTED_I = "\u0130"  # İ: lowercases to two code points, so search_key keeps it


def test_search_key_lowercases_keeps_accents_and_length() -> None:
    assert search_key("Ça ÉLODIE O'Brien") == "ça élodie o'brien"
    assert search_key(f"{DOTTED_I}nce") == f"{DOTTED_I}nce"
    assert len(search_key(DOTTED_I * 100)) == 100


async def test_models_fill_their_keys_on_create(factory, org_a) -> None:
    org = org_a.organization
    user = await User.create(
        organization=org, username="Zoe.Ng", first_name="Zoë", last_name="ÉLODIE", type="FRONT_DESK"
    )
    long = await User.create(
        organization=org,
        username="long.one",
        first_name="L",
        last_name=DOTTED_I * 100,
        type="FRONT_DESK",
    )
    location = await Location.create(organization=org, name="Côte-DES-Neiges", timezone="UTC")
    group = await PermissionGroup.create(organization=org, name="Équipe DU Soir", permission_codes="")
    provider = await make_provider(user, "Dr ÉLODIE Ng")
    client = await make_client(org, location, "Ärne", "Ünal", email="Arne@Example.com")

    assert await User.filter(id=user.id).values_list("username_key", "last_name_key") == [("zoe.ng", "élodie")]
    assert (await User.get(id=long.id)).last_name_key == DOTTED_I * 100
    assert (await Location.get(id=location.id)).name_key == "côte-des-neiges"
    assert (await PermissionGroup.get(id=group.id)).name_key == "équipe du soir"
    assert (await Provider.get(id=provider.id)).display_name_key == "dr élodie ng"
    stored = await Client.get(id=client.id)
    assert (stored.first_name_key, stored.last_name_key, stored.email_key) == ("ärne", "ünal", "arne@example.com")
    assert stored.preferred_name_key is None  # no preferred name, no key


async def test_a_key_given_by_a_caller_is_recomputed(factory, org_a) -> None:
    user = await User.create(
        organization=org_a.organization,
        username="Mixed",
        username_key="WRONG",
        first_name="A",
        last_name="B",
        last_name_key="wrong",
        type="FRONT_DESK",
    )
    assert await User.filter(id=user.id).values_list("username_key", "last_name_key") == [("mixed", "b")]


async def test_keys_follow_save_update_fields_bulk_create_and_queryset_updates(factory, org_a) -> None:
    staff = await factory.user(org_a.organization, username="renamed")
    user = staff.user
    user.last_name = "ÖZTÜRK"
    await user.save()
    assert (await User.get(id=user.id)).last_name_key == "öztürk"
    user.last_name = "Łukasz"
    await user.save(update_fields=["last_name"])
    assert (await User.get(id=user.id)).last_name_key == "łukasz"

    values = {"last_name": "NÚÑEZ"}
    await User.filter(id=user.id).update(**values, **User.keys_for(values))
    assert (await User.get(id=user.id)).last_name_key == "núñez"
    assert User.keys_for({"first_name": "X"}) == {}  # not a key's source: nothing to add

    location = org_a.locations[0]
    await Client.bulk_create(
        [
            Client(
                organization_id=org_a.organization.id,
                location_id=location.id,
                first_name="BULK",
                last_name="Çelik",
                preferred_name="",
                timezone="UTC",
            )
        ]
    )
    made = await Client.get(first_name="BULK")
    assert (made.first_name_key, made.last_name_key, made.preferred_name_key) == ("bulk", "çelik", None)
    assert Client.keys_for({"preferred_name": None, "email": "A@B.ca"}) == {
        "preferred_name_key": None,
        "email_key": "a@b.ca",
    }
