"""What each SQL dialect can do faithfully, and how it reads the JSON columns of the layout.

One `Dialect` per engine. `features` is the capability table: a construct whose feature is
missing gets diagnostic Q401 instead of SQL (never SQL that answers differently). The JSON
primitives return sqlglot expressions; a JSON value is SQL NULL when absent and the JSON
`null` value when stored as null, and every dialect keeps that distinction.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot.expressions as exp

#: Features a dialect may have (the rows of the capability table in docs/sql.md).
FEATURES = {
    "json": "read the JSON columns of the layout (attributes, custom first, names ignoring case)",
    "regex": "`matches ~/re/` with RE2 semantics",
    "events": "event expressions over segmentql_events",
    "elements": "collection tests and `is empty` on profile lists and maps",
}


def lit(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def num(value: int | float | str) -> exp.Expression:
    return exp.Literal.number(value)


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call emitted exactly as named (no transpilation by sqlglot)."""
    return exp.Anonymous(this=name, expressions=list(args))


def coalesce(*items: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=items[0], expressions=list(items[1:]))


def paren(e: exp.Expression) -> exp.Expression:
    """`e` wrapped in parentheses unless it is atomic (sqlglot never adds them itself)."""
    if isinstance(e, exp.Paren | exp.Column | exp.Literal | exp.Boolean | exp.Null
                  | exp.Anonymous | exp.Case | exp.Cast | exp.Subquery):
        return e
    return exp.Paren(this=e)


def _is(e: exp.Expression, value: bool) -> bool:
    return isinstance(e, exp.Boolean) and e.this is value


def and_(*items: exp.Expression) -> exp.Expression:
    """Kleene AND, with literal TRUE dropped and a literal FALSE deciding."""
    kept = [i for i in items if not _is(i, True)]
    if any(_is(i, False) for i in kept):
        return exp.Boolean(this=False)
    if not kept:
        return exp.Boolean(this=True)
    out = paren(kept[0])
    for item in kept[1:]:
        out = exp.And(this=out, expression=paren(item))
    return out


def or_(*items: exp.Expression) -> exp.Expression:
    """Kleene OR, with literal FALSE dropped and a literal TRUE deciding."""
    kept = [i for i in items if not _is(i, False)]
    if any(_is(i, True) for i in kept):
        return exp.Boolean(this=True)
    if not kept:
        return exp.Boolean(this=False)
    out = paren(kept[0])
    for item in kept[1:]:
        out = exp.Or(this=out, expression=paren(item))
    return out


def not_(e: exp.Expression) -> exp.Expression:
    if isinstance(e, exp.Boolean):
        return exp.Boolean(this=not e.this)
    return exp.Not(this=paren(e))


def case(*pairs: tuple[exp.Expression, exp.Expression],
         default: exp.Expression | None = None) -> exp.Expression:
    """CASE WHEN ..., with branches under a literal FALSE dropped and a literal TRUE
    ending the search (so dead branches never reach the engine)."""
    kept: list[tuple[exp.Expression, exp.Expression]] = []
    for condition, value in pairs:
        if _is(condition, False):
            continue
        if _is(condition, True):
            default = value
            break
        kept.append((condition, value))
    otherwise = default if default is not None else exp.Null()
    if not kept:
        return otherwise
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in kept], default=otherwise)


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=paren(e), expression=exp.Null())


def eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.EQ(this=paren(a), expression=paren(b))


TRUE: exp.Expression = exp.Boolean(this=True)
FALSE: exp.Expression = exp.Boolean(this=False)
NULL: exp.Expression = exp.Null()


def boolean(value: bool | None) -> exp.Expression:
    return NULL if value is None else TRUE if value else FALSE


@dataclass(frozen=True)
class Dialect:
    """A target dialect: its sqlglot name, whether tests execute it, its capabilities."""

    name: str
    sqlglot: str
    executed: bool
    features: frozenset[str]
    note: str = ""

    # --- the JSON primitives (DuckDB spelling; subclasses override) ---------------------

    def json_column(self, column: str, table: str = "p") -> exp.Expression:
        return exp.column(column, table=table)

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        pointer = "/" + key.replace("~", "~0").replace("/", "~1")
        return fn("json_extract", j, lit(pointer))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        """The value of the first key (in stored order) equal to `lowered` ignoring case."""
        k = exp.to_identifier("k")
        found = fn("list_filter", fn("json_keys", j),
                   exp.Lambda(this=eq(fn("lower", exp.column(k)), lit(lowered)),
                              expressions=[k]))
        first = fn("list_extract", found, num(1))
        pointer = exp.DPipe(this=lit("/"), expression=fn(
            "replace", fn("replace", first, lit("~"), lit("~0")), lit("/"), lit("~1")))
        return fn("json_extract", j, pointer)

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        names = [n for k in kinds for n in _DUCK_KINDS[k]]
        test: exp.Expression = exp.In(this=fn("json_type", j),
                                      expressions=[lit(n) for n in names])
        return test

    def text(self, j: exp.Expression) -> exp.Expression:
        return fn("json_extract_string", j, lit("$"))

    def number(self, j: exp.Expression) -> exp.Expression:
        # TRY_CAST: engines need not short-circuit the kind test guarding it.
        return exp.TryCast(this=j, to=exp.DataType.build("DOUBLE"))

    def truth(self, j: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=j, to=exp.DataType.build("BOOLEAN"))

    def size(self, j: exp.Expression) -> exp.Expression:
        """Elements of an array, keys of an object."""
        return case((self.kind_is(j, "array"), fn("json_array_length", j)),
                    default=fn("len", fn("json_keys", j)))

    def any_element(self, j: exp.Expression, var: str,
                    predicate: exp.Expression) -> exp.Expression:
        """TRUE when some element (array) or value (object) satisfies `predicate`."""
        return exp.GT(this=self.count_elements(j, var, predicate), expression=num(0))

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        """How many elements (array) or values (object) of `j` satisfy `predicate` (0 for
        anything else)."""
        ident = exp.to_identifier(var)
        items = case((self.kind_is(j, "array"), fn("json_extract", j, lit("$[*]"))),
                     (self.kind_is(j, "object"), fn("json_extract", j, lit("$.*"))))
        kept = fn("list_filter", items, exp.Lambda(this=predicate, expressions=[ident]))
        return coalesce(fn("len", kept), num(0))

    def json_literal(self, text: str) -> exp.Expression:
        return exp.Cast(this=lit(text), to=exp.DataType.build("JSON"))

    def lower(self, e: exp.Expression) -> exp.Expression:
        return fn("lower", e)

    def contains_text(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return exp.GT(this=fn("strpos", hay, needle), expression=num(0))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        return fn("regexp_matches", subject, lit(pattern))

    def timestamp(self, iso: str) -> exp.Expression:
        return exp.Cast(this=lit(iso), to=exp.DataType.build("TIMESTAMPTZ"))

    def trunc(self, e: exp.Expression) -> exp.Expression:
        return fn("trunc", e)


_DUCK_KINDS = {
    "null": ("NULL",),
    "boolean": ("BOOLEAN",),
    "number": ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"),
    "string": ("VARCHAR",),
    "array": ("ARRAY",),
    "object": ("OBJECT",),
}


@dataclass(frozen=True)
class PostgresDialect(Dialect):
    """PostgreSQL over jsonb columns (the store's relations)."""

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        return fn("jsonb_extract_path", j, lit(key))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        each = exp.Table(this=fn("jsonb_each", j), alias=exp.TableAlias(this="kv"))
        query = (exp.select(exp.column("value", table="kv")).from_(each)
                 .where(eq(fn("lower", exp.column("key", table="kv")), lit(lowered)))
                 .limit(1))
        return case((self.kind_is(j, "object"), exp.Subquery(this=query)))

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        return exp.In(this=fn("jsonb_typeof", j), expressions=[lit(k) for k in kinds])

    def text(self, j: exp.Expression) -> exp.Expression:
        return exp.JSONBExtractScalar(this=paren(j), expression=lit("{}"))

    def number(self, j: exp.Expression) -> exp.Expression:
        # Guarded here too: PostgreSQL need not short-circuit the caller's kind test.
        return case((self.kind_is(j, "number"),
                     exp.Cast(this=paren(j), to=exp.DataType.build("DOUBLE"))))

    def truth(self, j: exp.Expression) -> exp.Expression:
        return case((self.kind_is(j, "boolean"),
                     exp.Cast(this=paren(j), to=exp.DataType.build("BOOLEAN"))))

    def size(self, j: exp.Expression) -> exp.Expression:
        keys = exp.select(fn("count", exp.Star())).from_(
            exp.Table(this=fn("jsonb_object_keys", j)))
        return case((self.kind_is(j, "array"), fn("jsonb_array_length", j)),
                    (self.kind_is(j, "object"), exp.Subquery(this=keys)))

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        count = fn("count", exp.Star())
        arr = exp.select(count).from_(exp.Table(
            this=fn("jsonb_array_elements", j),
            alias=exp.TableAlias(this="t", columns=[exp.to_identifier(var)])))
        obj = exp.select(count).from_(exp.Table(
            this=fn("jsonb_each", j),
            alias=exp.TableAlias(this="t", columns=[exp.to_identifier("k_"),
                                                    exp.to_identifier(var)])))
        return case((self.kind_is(j, "array"), exp.Subquery(this=arr.where(predicate))),
                    (self.kind_is(j, "object"), exp.Subquery(this=obj.where(predicate))),
                    default=num(0))

    def json_literal(self, text: str) -> exp.Expression:
        return exp.Cast(this=lit(text), to=exp.DataType.build("JSONB"))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        raise AssertionError("PostgreSQL has no RE2 (capability 'regex' is off)")


DUCKDB = Dialect(
    "duckdb", "duckdb", True, frozenset({"json", "regex", "events", "elements"}),
    "embedded default, over the Parquet layout; executed in tests",
)
POSTGRES = PostgresDialect(
    "postgres", "postgres", True, frozenset({"json", "events", "elements"}),
    "over the store's relations (jsonb); executed in tests; POSIX regexes are not RE2",
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (DUCKDB, POSTGRES)}
ALIASES = {"postgresql": "postgres", "duck": "duckdb"}


def dialect(name: str) -> Dialect:
    key = ALIASES.get(name.lower(), name.lower())
    try:
        return DIALECTS[key]
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise ValueError(f"unknown SQL dialect {name!r} (known: {known})") from None


_SIMPLE_KEY = __import__("re").compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPARK_NUMBERS = ("BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT")


@dataclass(frozen=True)
class SparkDialect(Dialect):
    """Spark SQL (4.x) over the Parquet layout, JSON columns parsed to VARIANT."""

    def _as_map(self, j: exp.Expression) -> exp.Expression:
        # try_variant_get, not TRY_CAST: Spark's TRY_CAST still raises on variant casts.
        return fn("try_variant_get", j, lit("$"), lit("map<string, variant>"))

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        if _SIMPLE_KEY.fullmatch(key):
            return fn("variant_get", j, lit(f"$.{key}"))
        return fn("try_element_at", self._as_map(j), lit(key))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        k, x = exp.to_identifier("k"), exp.to_identifier("x")
        kept = fn("map_filter", self._as_map(j), exp.Lambda(
            this=eq(fn("lower", exp.column(k)), lit(lowered)), expressions=[k, x]))
        return fn("try_element_at", fn("map_values", kept), num(1))

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        schema = fn("schema_of_variant", j)
        tests: list[exp.Expression] = []
        for kind in kinds:
            if kind == "null":
                tests.append(eq(schema, lit("VOID")))
            elif kind == "boolean":
                tests.append(eq(schema, lit("BOOLEAN")))
            elif kind == "string":
                tests.append(eq(schema, lit("STRING")))
            elif kind == "number":
                tests.append(or_(exp.In(this=schema, expressions=[lit(n) for n in
                                                                  _SPARK_NUMBERS]),
                                 exp.Like(this=schema, expression=lit("DECIMAL%"))))
            elif kind == "array":
                tests.append(exp.Like(this=schema, expression=lit("ARRAY%")))
            else:
                tests.append(exp.Like(this=schema, expression=lit("OBJECT%")))
        return or_(*tests) if len(tests) > 1 else tests[0]

    def text(self, j: exp.Expression) -> exp.Expression:
        return fn("try_variant_get", j, lit("$"), lit("string"))

    def number(self, j: exp.Expression) -> exp.Expression:
        return fn("try_variant_get", j, lit("$"), lit("double"))

    def truth(self, j: exp.Expression) -> exp.Expression:
        return fn("try_variant_get", j, lit("$"), lit("boolean"))

    def _items(self, j: exp.Expression) -> exp.Expression:
        array = fn("try_variant_get", j, lit("$"), lit("array<variant>"))
        return case((self.kind_is(j, "array"), array),
                    (self.kind_is(j, "object"), fn("map_values", self._as_map(j))))

    def size(self, j: exp.Expression) -> exp.Expression:
        return fn("size", self._items(j))

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        ident = exp.to_identifier(var)
        kept = fn("filter", self._items(j), exp.Lambda(this=predicate, expressions=[ident]))
        return coalesce(fn("size", kept), num(0))

    def json_literal(self, text: str) -> exp.Expression:
        return fn("parse_json", lit(text))

    def contains_text(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return exp.GT(this=fn("instr", hay, needle), expression=num(0))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        raise AssertionError("Spark has no RE2 (capability 'regex' is off)")

    def timestamp(self, iso: str) -> exp.Expression:
        return exp.Cast(this=lit(iso), to=exp.DataType.build("TIMESTAMP"))

    def trunc(self, e: exp.Expression) -> exp.Expression:
        return exp.Sub(this=paren(e), expression=paren(exp.Mod(this=paren(e),
                                                               expression=num(1))))


SPARK = SparkDialect(
    "spark", "spark", True, frozenset({"json", "events", "elements"}),
    "Spark 4 local mode over the Parquet layout (JSON parsed to VARIANT); executed in tests; "
    "java.util.regex is not RE2",
)
DIALECTS[SPARK.name] = SPARK


# --- golden dialects: generated and checked into tests/sql/golden, never executed here ----


@dataclass(frozen=True)
class TrinoDialect(Dialect):
    """Trino over JSON columns; kinds from the first character of `json_format`."""

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        return fn("json_extract", j, lit("$[" + _quoted_key(key) + "]"))

    def _map(self, j: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=j, to=exp.DataType.build("MAP(VARCHAR, JSON)", dialect="trino"))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        k, x = exp.to_identifier("k"), exp.to_identifier("x")
        kept = fn("map_filter", self._map(j), exp.Lambda(
            this=eq(fn("lower", exp.column(k)), lit(lowered)), expressions=[k, x]))
        return fn("element_at", fn("map_values", kept), num(1))

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        first = fn("substr", fn("json_format", j), num(1), num(1))
        chars = {"null": ["n"], "boolean": ["t", "f"], "string": ['"'], "array": ["["],
                 "object": ["{"], "number": list("-0123456789")}
        return exp.In(this=first, expressions=[lit(c) for k in kinds for c in chars[k]])

    def text(self, j: exp.Expression) -> exp.Expression:
        return fn("json_extract_scalar", j, lit("$"))

    def _items(self, j: exp.Expression) -> exp.Expression:
        array = exp.TryCast(this=j, to=exp.DataType.build("ARRAY(JSON)", dialect="trino"))
        return case((self.kind_is(j, "array"), array),
                    (self.kind_is(j, "object"), fn("map_values", self._map(j))))

    def size(self, j: exp.Expression) -> exp.Expression:
        return fn("cardinality", self._items(j))

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        kept = fn("filter", self._items(j), exp.Lambda(this=predicate,
                                                       expressions=[exp.to_identifier(var)]))
        return coalesce(fn("cardinality", kept), num(0))

    def json_literal(self, text: str) -> exp.Expression:
        return fn("json_parse", lit(text))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        raise AssertionError("Trino's regexes are not RE2 (capability 'regex' is off)")

    def timestamp(self, iso: str) -> exp.Expression:
        return fn("from_iso8601_timestamp", lit(iso))

    def trunc(self, e: exp.Expression) -> exp.Expression:
        return fn("truncate", e)


@dataclass(frozen=True)
class BigQueryDialect(Dialect):
    """BigQuery over JSON columns (JSON_TYPE, JSON_QUERY, JSON_KEYS)."""

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        return fn("JSON_QUERY", j, lit('$."' + key.replace('"', '\\"') + '"'))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        k = exp.column("k")
        query = (exp.select(exp.Bracket(this=j, expressions=[k]))
                 .from_(exp.Unnest(expressions=[fn("JSON_KEYS", j, num(1))],
                                   alias=exp.TableAlias(this=exp.to_identifier("k"))))
                 .where(eq(fn("LOWER", k), lit(lowered))).limit(1))
        return case((self.kind_is(j, "object"), exp.Subquery(this=query)))

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        return exp.In(this=fn("JSON_TYPE", j), expressions=[lit(k) for k in kinds])

    def text(self, j: exp.Expression) -> exp.Expression:
        return fn("LAX_STRING", j)

    def number(self, j: exp.Expression) -> exp.Expression:
        return fn("LAX_FLOAT64", j)

    def truth(self, j: exp.Expression) -> exp.Expression:
        return fn("LAX_BOOL", j)

    def _values(self, j: exp.Expression, var: str) -> exp.Select:
        arr = (exp.select(exp.alias_(exp.column("v_"), var))
               .from_(exp.Unnest(expressions=[fn("JSON_QUERY_ARRAY", j)],
                                 alias=exp.TableAlias(this=exp.to_identifier("v_")))))
        return arr

    def size(self, j: exp.Expression) -> exp.Expression:
        return case((self.kind_is(j, "array"), fn("ARRAY_LENGTH", fn("JSON_QUERY_ARRAY", j))),
                    (self.kind_is(j, "object"), fn("ARRAY_LENGTH", fn("JSON_KEYS", j, num(1)))))

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        k = exp.column("k_")
        values = (exp.select(exp.alias_(exp.Bracket(this=j, expressions=[k]), var))
                  .from_(exp.Unnest(expressions=[fn("JSON_KEYS", j, num(1))],
                                    alias=exp.TableAlias(this=exp.to_identifier("k_")))))
        items = case((self.kind_is(j, "array"), exp.Subquery(this=exp.select(
            fn("COUNT", exp.Star())).from_(exp.Subquery(this=self._values(j, var))).where(
            predicate))), (self.kind_is(j, "object"), exp.Subquery(this=exp.select(
                fn("COUNT", exp.Star())).from_(exp.Subquery(this=values)).where(predicate))),
            default=num(0))
        return items

    def json_literal(self, text: str) -> exp.Expression:
        return fn("PARSE_JSON", lit(text))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        return fn("REGEXP_CONTAINS", subject, lit(pattern))

    def timestamp(self, iso: str) -> exp.Expression:
        return fn("TIMESTAMP", lit(iso))

    def trunc(self, e: exp.Expression) -> exp.Expression:
        return fn("TRUNC", e)


@dataclass(frozen=True)
class SnowflakeDialect(Dialect):
    """Snowflake over VARIANT columns (GET, TYPEOF); no collection tests."""

    def child(self, j: exp.Expression, key: str) -> exp.Expression:
        return fn("GET", j, lit(key))

    def child_ci(self, j: exp.Expression, lowered: str) -> exp.Expression:
        return fn("GET_IGNORE_CASE", j, lit(lowered))

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        names = {"null": ["NULL_VALUE"], "boolean": ["BOOLEAN"], "string": ["VARCHAR"],
                 "number": ["INTEGER", "DECIMAL", "DOUBLE"], "array": ["ARRAY"],
                 "object": ["OBJECT"]}
        return exp.In(this=fn("TYPEOF", j),
                      expressions=[lit(n) for k in kinds for n in names[k]])

    def text(self, j: exp.Expression) -> exp.Expression:
        return fn("AS_VARCHAR", j)

    def number(self, j: exp.Expression) -> exp.Expression:
        return fn("TO_DOUBLE", j)

    def truth(self, j: exp.Expression) -> exp.Expression:
        return fn("AS_BOOLEAN", j)

    def json_literal(self, text: str) -> exp.Expression:
        return fn("PARSE_JSON", lit(text))

    def contains_text(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return exp.GT(this=fn("CHARINDEX", needle, hay), expression=num(0))

    def regex_search(self, subject: exp.Expression, pattern: str) -> exp.Expression:
        raise AssertionError("Snowflake's regexes are not RE2 (capability 'regex' is off)")


def _quoted_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


TRINO = TrinoDialect("trino", "trino", False, frozenset({"json", "events", "elements"}),
                     "golden SQL: generated and checked in, not executed here")
BIGQUERY = BigQueryDialect("bigquery", "bigquery", False,
                           frozenset({"json", "regex", "events", "elements"}),
                           "golden SQL: generated and checked in, not executed here")
SNOWFLAKE = SnowflakeDialect("snowflake", "snowflake", False, frozenset({"json", "events"}),
                             "golden SQL: generated and checked in, not executed here")
for _golden in (TRINO, BIGQUERY, SNOWFLAKE):
    DIALECTS[_golden.name] = _golden
