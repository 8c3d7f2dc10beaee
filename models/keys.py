"""Derived keys: the lowercase copies stored next to names for case-insensitive uniqueness, lookup,
prefix search and a stable sort order (`username_key`, `last_name_key`, `name_key`, ...).

A model owns its keys: it lists them in `DERIVED_KEYS` and `DerivedKeys` fills them from their
sources on every `save()`, hence `Model.create`, and in `bulk_create`. A queryset `.update(...)`
bypasses the model, so it splats `Model.keys_for(values)` beside the values it writes. Callers
never compute a key themselves; a lookup on a key column uses `search_key`, the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


def search_key(value: str) -> str:
    """The lowercase key stored next to a name for case-insensitive lookup and prefix search.

    Lowercased character by character, keeping any character whose lowercase form is longer (the
    dotted capital I, U+0130, lowercases to two code points): the key has exactly the name's
    length, so a name that fits its column has a key that fits the key's column. Plain
    `str.lower()` lets a 100-character name make a 200-character key, which the ORM refuses
    with an unexpected error.
    """
    return "".join(low if len(low := char.lower()) == 1 else char for char in value)


class DerivedKeys:
    """Mixin (before `Model`) for a model with key columns derived from other columns.

    `DERIVED_KEYS` maps each key column to its source column. An empty or missing source gives a
    null key where the key column is nullable (an absent preferred name has no key).
    """

    DERIVED_KEYS: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def keys_for(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The keys derived from the sources present in `values`: what a queryset `.update(...)`
        must write beside them (`Model.filter(...).update(**values, **Model.keys_for(values))`)."""
        return {key: cls._key_of(key, values[source]) for key, source in cls.DERIVED_KEYS.items() if source in values}

    @classmethod
    def _key_of(cls, key: str, value: str | None) -> str | None:
        if value:
            return search_key(value)
        nullable = cls._meta.fields_map[key].null  # type: ignore[attr-defined]
        return None if nullable else search_key(value or "")

    def fill_keys(self, sources: Iterable[str] | None = None) -> list[str]:
        """Set the keys derived from `sources` (every source when None) from the current values;
        return the key columns set."""
        wanted = None if sources is None else set(sources)
        filled = []
        for key, source in self.DERIVED_KEYS.items():
            if (wanted is None or source in wanted) and source in self.__dict__:
                setattr(self, key, self._key_of(key, self.__dict__[source]))
                filled.append(key)
        return filled

    async def save(
        self,
        using_db: Any = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        if update_fields is None:
            self.fill_keys()
        else:
            update_fields = list(update_fields)
            update_fields += [key for key in self.fill_keys(update_fields) if key not in update_fields]
        await super().save(  # type: ignore[misc]
            using_db=using_db, update_fields=update_fields, force_create=force_create, force_update=force_update
        )

    @classmethod
    def bulk_create(cls, objects: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        objects = list(objects)
        for instance in objects:
            instance.fill_keys()
        return super().bulk_create(objects, *args, **kwargs)  # type: ignore[misc]
