"""schema/limits.py: the document measures and limits, without HTTP."""

from __future__ import annotations

import time

import pytest
import strawberry
from graphql import get_introspection_query, parse

from permissions.errors import ApiError
from schema.api import build_schema
from schema.limits import (
    LIMITS,
    Limits,
    _fragments,
    alias_count,
    at_most,
    auth_mutations,
    check_document,
    cost,
    depth,
    list_rows,
    paged_fields,
    parse_document,
    repeated_names,
)


def doc_depth(query: str) -> int:
    document = parse(query)
    operation = document.definitions[0]
    return depth(operation.selection_set, _fragments(document))


def doc_cost(query: str, variables: dict | None = None, list_fields: frozenset[str] = frozenset()) -> int:
    document = parse(query)
    operation = document.definitions[0]
    return cost(operation.selection_set, _fragments(document), variables or {}, list_fields, LIMITS.default_page)


AUTH = auth_mutations(build_schema(True)._schema)


def refused(query: str, variables: dict | None = None, **limits) -> str | None:
    try:
        check_document(parse(query), None, variables, Limits(**limits) if limits else LIMITS, auth_fields=AUTH)
    except ApiError as error:
        assert error.extensions["code"] == "QUERY_TOO_COMPLEX"
        return error.message
    return None


def test_limits_are_the_documented_ones():
    assert Limits(15_000, 2_000, 10, 15, 5_000, 10, 1, 3, 50, 500, 50) == LIMITS


def test_the_authentication_mutations_are_the_fields_marked_so():
    """Read from the schema (`authenticates=True` beside the field), so no name here can be one that
    does not exist; pinned, so marking or unmarking one is a decision a reviewer sees."""
    assert {
        "login",
        "acceptStaffInvitation",
        "unlockWithPin",
        "changePassword",
        "portalLogin",
        "acceptClientInvitation",
        "portalSignUp",
    } == AUTH
    mutations = set(build_schema(True)._schema.mutation_type.fields)
    assert mutations >= AUTH


def test_a_new_mutation_marked_authenticates_is_limited():
    from permissions.classes import public

    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Mutation:
        @strawberry.mutation(**public("Log in another way.", authenticates=True))
        def portal_login(self) -> bool:
            return True

        @strawberry.mutation(**public("Not one."))
        def ping(self) -> bool:
            return True

    schema = strawberry.Schema(query=Query, mutation=Mutation)._schema
    assert auth_mutations(schema) == {"portalLogin"}


def test_depth():
    assert doc_depth("{ a }") == 1
    assert doc_depth("{ a { b { c } } d }") == 3
    assert doc_depth("{ a { ... on T { b { c } } } }") == 3
    assert doc_depth("{ a { ...F } } fragment F on T { b { c { d } } }") == 4
    assert doc_depth("{ __typename a { __typename } }") == 2


def test_depth_of_introspection():
    assert doc_depth("{ __schema { types { fields { type { name } } } } }") == 5
    # ofType chains unwrap type modifiers; they add nothing.
    assert doc_depth('{ __type(name: "X") { ofType { ofType { ofType { ofType { name } } } } } }') == 2


def test_fragment_cycles_do_not_hang():
    query = "{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { ...F } }"
    assert doc_depth(query) == 3
    assert refused(query) is None  # left to validation


def test_aliases():
    assert alias_count(parse("{ a: x b: y z }")) == 2
    assert alias_count(parse("{ ...F ...F } fragment F on T { a: x }")) == 2
    assert alias_count(parse("query A { a: x } query B { b: x c: y }"), "B") == 2


def test_cost():
    assert doc_cost("{ a b c }") == 3
    assert doc_cost("{ a(first: 10) { b c } }") == 1 + 2 * 10
    assert doc_cost("{ a(first: 10) { b(first: 5) { c } } }") == 1 + (1 + 5) * 10
    assert doc_cost("query($n: Int) { a(first: $n) { b } }", {"n": 7}) == 1 + 7
    # No `first`: a paged field returns its default page.
    assert doc_cost("{ a { b } }", list_fields=frozenset({"a"})) == 1 + 50
    # `first` past 100 counts as 100 (the resolver refuses it anyway); negative as 0.
    assert doc_cost("{ a(first: 100000) { b } }") == 1 + 100
    assert doc_cost("{ a(first: -5) { b } }") == 1
    assert doc_cost('{ a(first: "x") { b } }') == 1 + 50


@strawberry.type
class Part:
    name: str


@strawberry.type
class Row:
    name: str

    @strawberry.field(**at_most(4))
    def parts(self) -> list[Part]:
        return []


@strawberry.type
class ListsQuery:
    @strawberry.field(**at_most(7, {"description": "Seven at most."}))
    def few(self) -> list[Row]:
        return []

    @strawberry.field(**at_most(3))
    def paged(self, first: int = 50) -> list[Row]:
        return []

    @strawberry.field
    def undeclared(self) -> list[Row]:
        return []


LISTS = strawberry.Schema(ListsQuery)._schema


def test_declared_rows_come_from_the_schema():
    assert list_rows(LISTS) == {"ListsQuery.few": 7, "Row.parts": 4}


def test_a_list_without_first_counts_the_rows_it_declares():
    """Found in a security review: a list with no `first` counted as one row, so a token's request
    paid (and was let through) for a fraction of what it returned. What `check_document` returns is
    what the token is charged."""

    def estimate(query: str) -> int:
        return check_document(parse(query), None, {}, schema=LISTS)

    assert estimate("{ few { name } }") == 1 + 7 * 1
    assert estimate("{ few { name parts { name } } }") == 1 + 7 * (1 + 1 + 4 * 1)
    assert estimate("{ ...F } fragment F on ListsQuery { few { ... on Row { name } } }") == 1 + 7
    assert estimate("{ undeclared { name } }") == 2
    assert estimate("{ paged(first: 2) { name } }") == 1 + 2  # `first` wins over declared rows
    # Without the schema (documents measured alone), a list counts one row as before.
    assert check_document(parse("{ few { name } }"), None, {}) == 2
    # The document limit, for every caller, still counts it once: 2 is within a limit of 5, though a
    # token is charged 8 for it.
    assert check_document(parse("{ few { name } }"), None, {}, Limits(max_cost=5), schema=LISTS) == 8


def _unpaged_object_lists(schema) -> set[str]:
    """Every `Type.field` that returns a list of objects and takes no page size, but the `edges` of a
    connection (its connection's `first` pages them) and a mutation payload's lists (what its input
    named)."""
    from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type

    payloads = {get_named_type(f.type).name for f in schema.mutation_type.fields.values()}
    found = set()
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__") or type_.name in payloads:
            continue
        for name, field in type_.fields.items():
            unwrapped = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not isinstance(unwrapped, GraphQLList) or {"first", "limit"} & set(field.args):
                continue
            edges = name == "edges" and "pageInfo" in type_.fields
            if isinstance(get_named_type(field.type), GraphQLObjectType) and not edges:
                found.add(f"{type_.name}.{name}")
    return found


def test_every_list_without_a_page_size_declares_its_rows():
    """A new list with no `first` must say beside it how many rows it holds (`at_most`): left out, it
    would count as one row again."""
    schema = build_schema(True)._schema
    lists = _unpaged_object_lists(schema)
    assert {"Query.locations", "Query.permissionGroups", "Integration.tokens"} <= lists
    assert lists - set(list_rows(schema)) == set()


def test_cost_reads_a_variables_default_value():
    """`first: $n` with `$n: Int = 100` and no value sent pages 100: it costs as much."""
    document = parse("query($n: Int = 100) { a(first: $n) { b c d e f g h i j k l m n o p q r s t u v w x y } }")
    with pytest.raises(ApiError) as refused:
        check_document(document, None, {}, Limits(max_cost=2_000))
    assert refused.value.extensions["code"] == "QUERY_TOO_COMPLEX"
    check_document(document, None, {"n": 10}, Limits(max_cost=2_000))  # a value sent wins


def test_repeated_selections_are_refused_before_validation_runs():
    """graphql-core's overlapping-fields rule is quadratic: 450 copies of one selection (under the
    token limit) cost seconds of CPU to validate, so the document is refused first."""
    document = parse("{ " + "viewer { kind } " * 450 + "}")
    with pytest.raises(ApiError) as refused:
        check_document(document, None, {})
    assert "selects more than 500 fields" in refused.value.message
    introspection = parse(get_introspection_query(descriptions=True))
    check_document(introspection, None, {})  # the standard introspection query still passes


def test_exponential_fragments_are_measured_quickly():
    """F_k spreads F_(k-1) twice: 2^40 fields if walked naively, so memoized per fragment."""
    lines = ["fragment F0 on Query { __typename }"]
    lines += [f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 41)]
    query = "{ ...F40 } " + " ".join(lines)
    started = time.perf_counter()
    message = refused(query)
    assert time.perf_counter() - started < 1
    assert message is not None and "cost" in message


def test_exponential_aliases_through_fragments():
    lines = ["fragment F0 on Query { a: __typename }"]
    lines += [f"fragment F{k} on Query {{ x{k}: viewer {{ ...F{k - 1} }} }}" for k in range(1, 4)]
    query = "{ ...F3 ...F3 } " + " ".join(lines)
    assert refused(query) is None
    assert "aliases" in refused(query, max_aliases=5)


def test_each_limit():
    assert "deeper" in refused("{ " + "a { " * 10 + "b" + " }" * 10 + " }")
    assert refused("{ " + "a { " * 9 + "b" + " }" * 9 + " }") is None
    assert "aliases" in refused("{ " + " ".join(f"a{i}: x" for i in range(16)) + " }")
    assert "mutations" in refused("mutation { " + " ".join(f"m{i}: logout" for i in range(11)) + " }")
    assert refused("mutation { " + " ".join(f"m{i}: logout" for i in range(10)) + " }") is None
    assert "authentication" in refused("mutation { a: login b: unlockWithPin }")
    assert "authentication" in refused(
        "mutation { a: acceptStaffInvitation ...F } fragment F on Mutation { changePassword }"
    )
    assert "authentication" in refused("mutation { a: login b: portalLogin }")
    assert "authentication" in refused("mutation { a: portalLogin b: acceptClientInvitation }")
    assert "authentication" in refused("mutation { a: login b: portalSignUp }")
    assert refused("mutation { a: login b: staffSignUp }") is None  # not a field: validation answers
    assert refused("mutation { a: login b: logout }") is None
    # Queries may repeat a name that is an authentication mutation elsewhere.
    assert refused("{ login changePassword }") is None
    assert "cost" in refused("{ a(first: 100) { b(first: 50) { c } } }")


def test_only_the_operation_that_runs_is_measured():
    deep = "query Deep { " + "a { " * 11 + "b" + " }" * 11 + " }"
    shallow = "query Shallow { a }"
    document = parse(deep + " " + shallow)
    check_document(document, "Shallow", None)
    with pytest.raises(ApiError):
        check_document(document, "Deep", None)
    check_document(document, None, None)  # ambiguous: graphql-core answers


def test_parse_document_limits():
    assert parse_document("{ a }", 2000) is parse_document("{ a }", 2000)  # cached
    with pytest.raises(ApiError) as raised:
        parse_document("{ " + "a " * 2000 + "}", 2000)
    assert raised.value.extensions["code"] == "QUERY_TOO_COMPLEX"
    with pytest.raises(ApiError):
        parse_document("{" + "a { " * 400 + "b" + " }" * 400 + "}", 2000)
    from graphql import GraphQLSyntaxError

    with pytest.raises(GraphQLSyntaxError):
        parse_document("{ a ", 2000)


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def children(self, first: int = 50) -> list[Item]:
        return []


@strawberry.type
class PagedQuery:
    @strawberry.field
    def items(self, first: int = 50, after: str | None = None) -> list[Item]:
        return []

    @strawberry.field
    def one(self, id: str) -> Item | None:
        return None


def test_paged_fields_come_from_the_schema():
    assert paged_fields(strawberry.Schema(PagedQuery)._schema) == frozenset({"items", "children"})


def test_holds_unstorable_text():
    from schema.limits import holds_unstorable_text as bad

    assert not bad(None) and not bad({"a": ["b", {"c": 1}]}) and not bad("ünïcødé 密码 😀")
    assert bad("a\x00") and bad({"a": [{"b": "\x00"}]}) and bad({"\x00": 1})
    assert bad("\ud800") and bad(["ok", "x\udfffy"])
    deep: object = "\x00"
    for _ in range(10_000):
        deep = [deep]
    assert bad(deep)


def test_escaped_nul_in_a_literal_is_bad_input():
    with pytest.raises(ApiError) as raised:
        parse_document('{ a(x: "b\\u0000c") }', 2000)
    assert raised.value.extensions["code"] == "BAD_USER_INPUT"
    assert parse_document('{ a(x: "b\\u0041c") }', 2000) is not None


def test_validation_cache_keeps_caching_after_a_flood():
    """Least recently used out: one-off documents cannot fill the cache for good."""
    import schema.limits as limits
    from schema.api import build_schema

    schema = build_schema(True)
    limits._validation_cache.clear()
    for n in range(limits.VALIDATION_CACHE_SIZE + 50):
        schema.execute_sync(f"{{ nope{n} }}")
    assert len(limits._validation_cache) == limits.VALIDATION_CACHE_SIZE
    schema.execute_sync("{ __typename }")
    assert (id(schema._schema), "{ __typename }") in limits._validation_cache


def test_a_documents_check_is_measured_once_per_page_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hit does not measure the document again; another page size, or other limits, does."""
    import schema.limits as limits

    measured = []
    real = limits._check
    monkeypatch.setattr(limits, "_check", lambda *args: measured.append(args[3]) or real(*args))
    text = "query($n: Int) { once(first: $n) { a b } }"
    for _ in range(3):
        check_document(parse(text), None, {"n": 5, "other": "x"})
    assert len(measured) == 1
    check_document(parse(text), None, {"n": 6})
    check_document(parse(text), None, {"n": 6}, Limits(max_cost=4_000))
    assert len(measured) == 3


def test_a_documents_check_is_remembered_by_the_page_sizes_its_variables_give():
    """The outcome is cached by document text, operation, limits and page sizes: the same text with
    another `first` (sent, defaulted, in a fragment) is measured again, other variables are not keys,
    and a refusal is raised anew each time (a response adds its request id to the error it gets)."""
    text = (
        "query($n: Int = 30, $m: Int, $s: String) { a(first: $n) { ...F } c(filter: $s) { d } }"
        " fragment F on A { b(limit: $m) { x y } }"
    )

    def check(variables: dict, limits: Limits = LIMITS) -> int:
        return check_document(parse(text), None, variables, limits)

    assert check({}) == 1 + 30 * (1 + 50 * 2) + 2
    assert check({"n": 2, "m": 3}) == 1 + 2 * (1 + 3 * 2) + 2
    assert check({"n": 2, "m": 3, "s": "other"}) == 1 + 2 * (1 + 3 * 2) + 2
    assert check({"n": 2}) == 1 + 2 * (1 + 50 * 2) + 2
    assert check({"n": float("inf"), "m": 3}) == 1 + 50 * (1 + 3 * 2) + 2  # not a number: the default page
    assert check({}, Limits(default_page=10)) == 1 + 30 * (1 + 10 * 2) + 2
    small = Limits(max_cost=100)
    errors = []
    for _ in range(2):
        with pytest.raises(ApiError) as refused:
            check({"n": 5}, small)
        errors.append(refused.value)
    assert errors[0] is not errors[1]
    assert errors[0].message == errors[1].message == "The document's estimated cost 508 is over 100."
    assert check({"n": 1, "m": 1}, small) == 1 + 1 * (1 + 1 * 2) + 2


def test_one_response_name_repeats_at_most_fifty_times_where_the_overlap_rule_compares_them():
    """graphql-core's overlapping-fields rule compares every pair of fields one selection set holds under
    one name, and each pair's sub-fields: 249 `viewer { kind }` at the root (498 selections, under that
    cap) cost 0.2 s of CPU to an anonymous caller, and so did 25 `viewer` each with 9 `organization`
    (audit 56, review 57). Fragments count where they are spread, however they are nested."""
    assert refused("{ " + "viewer { kind } " * 50 + "}") is None
    assert "more than 50 times" in (refused("{ " + "viewer { kind } " * 51 + "}") or "")
    assert "more than 50 times" in (refused("{ " + "viewer { kind } " * 249 + "}") or "")
    nested = "{ " + ("viewer { " + "organization { id } " * 9 + "} ") * 25 + "}"
    assert "more than 50 times" in (refused(nested) or "")
    spread = " ".join(f"...F{n}" for n in range(60))
    fragments = " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(60))
    assert "more than 50 times" in (refused(f"{{ {spread} }} {fragments}") or "")
    inline = "{ viewer { " + " ".join("... on Viewer { kind }" for _ in range(51)) + " } }"
    assert "more than 50 times" in (refused(inline) or "")
    # Distinct names, and one name under differently named parents, are not repeats; a cycle ends.
    assert repeated_names(parse("{ a: viewer { kind } b: viewer { kind } viewer { kind kind } }")) == 2
    assert repeated_names(parse("{ a: viewer { kind } a: viewer { kind } }")) == 2
    assert repeated_names(parse("query { ...A } fragment A on Query { ...B x } fragment B on Query { ...A x }")) <= 3
    assert refused(get_introspection_query()) is None
