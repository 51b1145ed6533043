"""The type checker: one pass over the AST that resolves names, gives every node a type, and
collects every diagnostic (it never stops at the first problem).

Typing follows the run-time semantics of spec §3–§4: absent values are null and never an
error, numbers compare across integer/decimal/float, `contains` works on strings, ISO strings
stand for dates and times where those are expected. An operand of type `any` (custom
attributes the schema does not declare) is never reported.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from segmentql.checker import messages, table
from segmentql.checker.events import EVENT_PROPERTIES, property_type
from segmentql.checker.names import NameSpans
from segmentql.checker.regex import regex_problem
from segmentql.codes import severity
from segmentql.diagnostics import Diagnostic, Label, Span
from segmentql.schema.functions import HostFunction
from segmentql.schema.model import Schema
from segmentql.schema.suggest import did_you_mean, help_for, near_misses
from segmentql.schema.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    FUNCTION,
    INTEGER,
    NULL,
    NUMBER,
    REGEX,
    STRING,
    TIME,
    AttributeSpec,
    SchemaType,
    TypeKind,
    list_of,
    map_of,
    parse_iso_date,
    parse_iso_datetime,
    parse_iso_time,
)
from segmentql.syntax import ast

# ---------------------------------------------------------------------- scopes


@dataclass(slots=True)
class Binding:
    """A local name: a `let` value or function, a quantifier item or index, a parameter."""

    name: str
    type: SchemaType
    kind: str  # "let", "function", "item", "index", "parameter"
    node: ast.Node
    used: bool = False
    params: tuple[str, ...] = ()
    returns: SchemaType = ANY


@dataclass(slots=True)
class Facts:
    """What the checker learned, for `Analysis`."""

    types: dict[int, SchemaType] = field(default_factory=dict)
    specs: dict[int, AttributeSpec] = field(default_factory=dict)
    paths: dict[int, tuple[str, ...]] = field(default_factory=dict)
    targets: set[int] = field(default_factory=set)
    bindings: dict[int, Binding] = field(default_factory=dict)
    functions: dict[int, HostFunction] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


_DATE_PARTS: dict[str, SchemaType] = {
    "year": INTEGER, "month": INTEGER, "day": INTEGER, "weekday": STRING,
}
_TIME_PARTS: dict[str, SchemaType] = {
    "hour": INTEGER, "minute": INTEGER, "second": INTEGER, "milli": INTEGER,
    "micro": INTEGER, "nano": INTEGER,
}

_TEST_KEYS: dict[ast.TestOp, str] = {op: op.value for op in ast.TestOp}
_COMPARE_KEYS = {op: op.value for op in ast.CompareOp}
_ORDERING_TESTS = {
    ast.TestOp.GREATER: "is greater than", ast.TestOp.GREATER_EQUAL: "is greater than or equal to",
    ast.TestOp.LESS: "is less than", ast.TestOp.LESS_EQUAL: "is less than or equal to",
    ast.TestOp.BETWEEN: "is between",
}
_TEST_WORDS: dict[ast.TestOp, str] = {
    ast.TestOp.EQUAL: "is", **_ORDERING_TESTS,
    ast.TestOp.BEFORE: "is before", ast.TestOp.AFTER: "is after", ast.TestOp.AT_TIME: "is at",
    ast.TestOp.STARTS_WITH: "starts with", ast.TestOp.ENDS_WITH: "ends with",
    ast.TestOp.MATCHES: "matches", ast.TestOp.LIKE: "is like",
    ast.TestOp.CONTAINS: "contains", ast.TestOp.IN: "is in",
    ast.TestOp.CONTAINS_ALL: "contains all of", ast.TestOp.CONTAINS_EITHER: "contains either",
    ast.TestOp.CONTAINS_NONE: "contains none of", ast.TestOp.DEFINED: "is defined",
    ast.TestOp.EMPTY: "is empty",
}
_SUBJECT_TESTS = {
    ast.TestOp.ANONYMOUS: ("user", ("id",)),
    ast.TestOp.IDENTIFIED: ("user", ("id",)),
    ast.TestOp.RETURNING: ("user", ("stats", "sessions")),
    ast.TestOp.STARTING: ("session", ("stats", "pageviews")),
}
_BINARY_KEYS = {
    ast.BinaryOp.AND: "and", ast.BinaryOp.OR: "or", ast.BinaryOp.ADD: "+",
    ast.BinaryOp.SUB: "-", ast.BinaryOp.MUL: "*", ast.BinaryOp.DIV: "/",
    ast.BinaryOp.MOD: "mod", ast.BinaryOp.POW: "**", ast.BinaryOp.CONCAT: "&",
    ast.BinaryOp.RANGE: "..", ast.BinaryOp.FALLBACK: "??",
}
_UNARY_KEYS = {
    ast.UnaryOp.NOT: "not", ast.UnaryOp.NEG: "neg", ast.UnaryOp.POS: "pos",
    ast.UnaryOp.PERCENT: "percent",
}
_UNARY_WORDS = {"not": "not", "neg": "-", "pos": "+", "percent": "%"}
_CAST_RESULTS: dict[ast.CastType, SchemaType] = {
    ast.CastType.BOOLEAN: BOOLEAN, ast.CastType.STRING: STRING, ast.CastType.NUMBER: NUMBER,
    ast.CastType.INTEGER: INTEGER, ast.CastType.DECIMAL: DECIMAL,
    ast.CastType.FLOAT: NUMBER, ast.CastType.COLLECTION: list_of(ANY),
    ast.CastType.TIME: TIME, ast.CastType.DATE: DATE, ast.CastType.DATETIME: DATETIME,
}
_CRITERION_TESTS: dict[ast.CriterionOp, str] = {
    ast.CriterionOp.EQUAL: "equal", ast.CriterionOp.GREATER: "greater",
    ast.CriterionOp.GREATER_EQUAL: "greater_equal", ast.CriterionOp.LESS: "less",
    ast.CriterionOp.LESS_EQUAL: "less_equal", ast.CriterionOp.STARTING: "starts_with",
    ast.CriterionOp.ENDING: "ends_with", ast.CriterionOp.LIKE: "like",
    ast.CriterionOp.IN: "in", ast.CriterionOp.CONTAINING: "contains",
    ast.CriterionOp.CONTAINING_ALL: "contains_all",
    ast.CriterionOp.CONTAINING_NONE: "contains_none",
    ast.CriterionOp.CONTAINING_EITHER: "contains_either",
    ast.CriterionOp.CONTAINING_NEITHER: "contains_none",
}
#: The noun of each event phrase, which a criterion path may start with (`cart's costs`).
_EVENT_NOUNS: dict[ast.EventKind, tuple[str, ...]] = {
    ast.EventKind.CART_ABANDONED: ("cart",), ast.EventKind.PRODUCT_ABANDONED: ("product",),
    ast.EventKind.PRODUCT_VIEWED: ("product",), ast.EventKind.ORDER_PLACED: ("order",),
    ast.EventKind.PRODUCT_ORDERED: ("product",), ast.EventKind.CAMPAIGN_VIEWED: ("campaign",),
    ast.EventKind.PAGE_OPENED: ("page",), ast.EventKind.POST_VIEWED: ("post",),
    ast.EventKind.LINK_OPENED: ("link",),
}
_TEMPORAL_KINDS = (TypeKind.DATE, TypeKind.DATETIME, TypeKind.TIME)
_MAX_RANGE = 30


def _describe(t: SchemaType) -> str:
    return t.describe()


class Checker:
    """Checks one AST against a schema. Use `run(root)`; results are in `facts`."""

    def __init__(self, schema: Schema, source: str | None = None) -> None:
        self.schema = schema
        self.source = source
        self.names = NameSpans(source)
        self.facts = Facts()
        self.scopes: list[dict[str, Binding]] = []

    # ------------------------------------------------------------------ plumbing

    def run(self, root: ast.Expr) -> SchemaType:
        return self.expr(root)

    def expr(self, node: ast.Node) -> SchemaType:
        method = _DISPATCH.get(type(node))
        t = method(self, node) if method is not None else ANY
        self.facts.types[id(node)] = t
        return t

    def report(
        self,
        code: str,
        message: str,
        span: Span,
        *,
        help: str | None = None,
        notes: tuple[str, ...] = (),
        suggestions: tuple[str, ...] = (),
        labels: tuple[Label, ...] = (),
    ) -> None:
        self.facts.diagnostics.append(
            Diagnostic(code, severity(code), message, span, notes=notes, help=help,
                       labels=labels, suggestions=suggestions)
        )

    def lookup(self, name: str) -> Binding | None:
        folded = name.casefold()
        for scope in reversed(self.scopes):
            found = scope.get(folded)
            if found is not None:
                return found
        return None

    def declare(self, binding: Binding, span: Callable[[], Span]) -> None:
        """Bind a name in the innermost scope; `span` (the name's, found only when a
        diagnostic needs it) is where a shadowing is reported."""
        folded = binding.name.casefold()
        shadowed = self.lookup(binding.name)
        if shadowed is not None and binding.kind == "parameter" and folded in self.scopes[-1]:
            pass  # a duplicate parameter: the parser reports it (Q122)
        elif shadowed is not None:
            self.report(
                "Q219", f"`{binding.name}` shadows the {messages.kind_word(shadowed.kind)} of the "
                "same name", span(), help="rename one of them",
            )
        elif self.schema.variable(binding.name) is not None:
            self.report(
                "Q219", f"`{binding.name}` shadows the context variable `{binding.name}`",
                span(), help="rename it: inside its scope the variable cannot be read",
            )
        self.scopes[-1][folded] = binding
        self.facts.bindings[id(binding.node)] = binding

    # ------------------------------------------------------------------ literals

    def _NullLiteral(self, node: ast.Node) -> SchemaType:
        return NULL

    def _BooleanLiteral(self, node: ast.Node) -> SchemaType:
        return BOOLEAN

    def _IntegerLiteral(self, node: ast.Node) -> SchemaType:
        return INTEGER

    def _DecimalLiteral(self, node: ast.Node) -> SchemaType:
        return DECIMAL

    def _FloatLiteral(self, node: ast.Node) -> SchemaType:
        return NUMBER

    def _StringLiteral(self, node: ast.Node) -> SchemaType:
        return STRING

    def _DurationLiteral(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.DurationLiteral)
        amount, unit = node.amount, node.unit
        # Calendar units count whole months and whole working/weekend days (1.5 years is 18
        # months, fine; 1.5 months is not a calendar duration).
        scale = {ast.DurationUnit.YEAR: 12, ast.DurationUnit.MONTH: 1,
                 ast.DurationUnit.WEEKDAY: 1, ast.DurationUnit.WEEKEND_DAY: 1}.get(unit)
        if scale is not None and amount * scale != int(amount * scale):
            calendar = unit in (ast.DurationUnit.YEAR, ast.DurationUnit.MONTH)
            counted = "months" if calendar else f"{unit.value}s"
            finer = "days" if calendar else "hours"
            self.report(
                "Q224", f"{amount} {unit.value}s is not a whole number of {counted}",
                node.span, help=f"use a whole number, or a finer unit such as {finer}",
            )
        return DURATION

    def _RegexLiteral(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.RegexLiteral)
        problem = regex_problem(node.pattern, node.flags)
        if problem is not None:
            self.report(
                "Q211", f"RE2 cannot run this regular expression: {problem}", node.span,
                help="RE2 runs in linear time, so it has no backreferences or look-around; "
                "rewrite the pattern without them",
            )
        return REGEX

    def _ListLiteral(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.ListLiteral)
        item: SchemaType = NULL
        for i, child in enumerate(node.items):
            t = self.expr(child)
            item = t if i == 0 else table.join(item, t)
        return list_of(ANY if item.kind is TypeKind.NULL and not node.items else item)

    def _MapLiteral(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.MapLiteral)
        value: SchemaType = NULL
        for i, entry in enumerate(node.entries):
            self.expr(entry.key)  # keys become text at run time, whatever their type
            t = self.expr(entry.value)
            self.facts.types[id(entry)] = t
            value = t if i == 0 else table.join(value, t)
        return map_of(ANY if not node.entries else value)

    def _MapEntry(self, node: ast.Node) -> SchemaType:  # visited through _MapLiteral
        return ANY

    # ------------------------------------------------------------------ names

    def _Variable(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Variable)
        binding = self.lookup(node.name)
        if binding is not None:
            binding.used = True
            self.facts.bindings[id(node)] = binding
            return binding.type
        spec = self.schema.variable(node.name)
        if spec is not None:
            self.facts.specs[id(node)] = spec
            self.facts.paths[id(node)] = (spec.name,)
            message = spec.deprecation_message
            if message is not None:
                self.report(
                    "Q203", f"`{spec.name}` is deprecated" + (f": {message}" if message else ""),
                    node.span, help=message or None,
                )
            return spec.type
        candidates = [*self.schema.variables, *self._local_names()]
        suggestions = did_you_mean(node.name, candidates)
        self.report(
            "Q200", f"unknown variable `{node.name}`", node.span,
            help=help_for(suggestions)
            or "the variables are " + ", ".join(f"`{v}`" for v in self.schema.variables),
            suggestions=tuple(suggestions),
        )
        return ANY

    def _local_names(self) -> Iterator[str]:
        for scope in self.scopes:
            for binding in scope.values():
                yield binding.name

    def _Attribute(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Attribute)
        self.facts.targets.add(id(node.target))
        target = self.expr(node.target)
        # The name's own span is looked up only when a diagnostic needs it.
        return self._read(node, target, node.name, partial(self.names.attribute, node))

    def _read(
        self, node: ast.Node, target: SchemaType, name: str, name_span: Callable[[], Span]
    ) -> SchemaType:
        """Reading `name` from a value of type `target` (attribute or string-key index)."""
        kind = target.kind
        if kind in (TypeKind.ANY, TypeKind.NULL):
            self._extend_path(node, name, custom=False)
            return ANY if kind is TypeKind.ANY else NULL
        if kind in (TypeKind.DATE, TypeKind.DATETIME, TypeKind.TIME):
            parts = {
                TypeKind.DATE: _DATE_PARTS, TypeKind.TIME: _TIME_PARTS,
                TypeKind.DATETIME: {**_DATE_PARTS, **_TIME_PARTS},
            }[kind]
            for part, part_type in parts.items():
                if part.casefold() == name.casefold():
                    return part_type
            suggestions = did_you_mean(name, parts)
            self.report(
                "Q201", f"a {kind.value} has no attribute `{name}`", name_span(),
                help=help_for(suggestions) or "its attributes are " + ", ".join(parts),
                suggestions=tuple(suggestions),
            )
            return ANY
        resolved = target.resolve(name)
        if resolved is None:
            if kind is TypeKind.OBJECT:
                names = [a.name for a in target.readable_attributes()]
                suggestions = did_you_mean(name, names)
                owner = self._owner_text(node)
                self.report(
                    "Q201", f"unknown attribute `{name}`" + (f" of `{owner}`" if owner else ""),
                    name_span(),
                    help=help_for(suggestions)
                    or ("its attributes are " + ", ".join(f"`{n}`" for n in names[:12])
                        if names else None),
                    suggestions=tuple(suggestions),
                )
            else:
                self.report(
                    "Q215", f"cannot read attribute `{name}` of a {_describe(target)}",
                    name_span(), help="only objects and maps have attributes",
                )
            return ANY
        spec = resolved.spec
        if spec is not None:
            self.facts.specs[id(node)] = spec
            message = spec.deprecation_message
            if message is not None:
                self.report(
                    "Q203", f"`{spec.name}` is deprecated" + (f": {message}" if message else ""),
                    name_span(), help=message or None,
                )
            self._extend_path(node, spec.name, custom=resolved.custom)
        else:
            self._extend_path(node, name, custom=resolved.custom)
            if kind is TypeKind.OBJECT:
                self._near_miss(target, name, name_span, custom=resolved.custom)
        return resolved.type

    def _near_miss(
        self, target: SchemaType, name: str, span: Callable[[], Span], *, custom: bool
    ) -> None:
        """An undeclared name read as custom/open that is one slip from a declared one."""
        close = near_misses(name, tuple(a.name for a in target.readable_attributes()
                                         if a.name != "custom"))
        if not close:
            return
        if custom:
            message = f"`{name}` is not a standard attribute; it is read as a custom attribute"
            note = "declare it under `custom:` in the schema to silence this warning"
        else:
            message = f"`{name}` is not declared; it is read as an attribute of unknown type"
            note = "declare it in the schema to silence this warning"
        self.report("Q202", message, span(), help=help_for(close), suggestions=tuple(close),
                    notes=(note,))

    def _extend_path(self, node: ast.Node, name: str, *, custom: bool) -> None:
        target = getattr(node, "target", None)
        base = self.facts.paths.get(id(target)) if target is not None else None
        if base is not None:
            self.facts.paths[id(node)] = (*base, "custom", name) if custom else (*base, name)

    def _owner_text(self, node: ast.Node) -> str:
        target = getattr(node, "target", None)
        path = self.facts.paths.get(id(target)) if target is not None else None
        if path:
            return "'s ".join(p for p in path if p != "custom")
        return ""

    def _Index(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Index)
        self.facts.targets.add(id(node.target))
        target = self.expr(node.target)
        index = self.expr(node.index)
        if isinstance(node.index, ast.StringLiteral) and target.kind is TypeKind.OBJECT:
            index_span = node.index.span
            return self._read(node, target, node.index.value, lambda: index_span)
        cat, icat = table.category(target), table.category(index)
        if cat is None:
            return ANY if target.is_any else NULL
        if cat is table.Cat.LIST:
            if icat not in (None, table.Cat.NUMBER):
                self.report("Q204", f"a list index must be a number, not {_describe(index)}",
                            node.index.span)
            return target.element
        if cat is table.Cat.MAP:
            if isinstance(node.index, ast.StringLiteral):
                self._extend_path(node, node.index.value, custom=False)
            return target.element
        if cat is table.Cat.STRING:
            if icat not in (None, table.Cat.NUMBER):
                self.report("Q204", f"a string index must be a number, not {_describe(index)}",
                            node.index.span)
            return STRING
        self.report("Q221", f"cannot index a {_describe(target)}", node.target.span,
                    help="only lists, maps and strings can be indexed")
        return ANY

    # ------------------------------------------------------------------ functions

    def _Call(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Call)
        args = [self.expr(a) for a in node.args]
        binding = self.lookup(node.function)
        if binding is not None:
            binding.used = True
            self.facts.bindings[id(node)] = binding
            if binding.kind != "function":
                if binding.type.kind is TypeKind.FUNCTION or binding.type.is_any:
                    return ANY
                self.report("Q210", f"`{node.function}` is a {_describe(binding.type)}, "
                            "not a function", self.names.call(node))
                return ANY
            if len(args) < len(binding.params):
                missing = ", ".join(f"`{p}`" for p in binding.params[len(args):])
                self.report(
                    "Q209",
                    f"`{node.function}` takes {messages.count(len(binding.params), 'argument')} but "
                    f"{messages.count(len(args), 'was', 'were')} given",
                    node.span, help=f"pass {missing}",
                )
            return binding.returns
        host = self.schema.function(node.function)
        if host is not None:
            self.facts.functions[id(node)] = host
            if len(args) < host.min_args or (host.max_args is not None
                                             and len(args) > host.max_args):
                expected = (
                    str(host.min_args) if host.max_args == host.min_args
                    else f"{host.min_args} to {host.max_args}" if host.max_args is not None
                    else f"at least {host.min_args}"
                )
                self.report(
                    "Q209",
                    f"`{host.name}` takes {expected} argument"
                    f"{'' if expected == '1' else 's'} but {messages.count(len(args), 'was', 'were')}"
                    " given",
                    node.span, help=f"the signature is {host.signature()}",
                )
            for i, (arg_node, arg) in enumerate(zip(node.args, args, strict=True)):
                expected_type = host.param_type(i)
                if not _assignable(arg, expected_type, arg_node):
                    name = host.params[i].name if i < len(host.params) else "*args"
                    self.report(
                        "Q204",
                        f"argument `{name}` of `{host.name}` must be "
                        f"{_describe(expected_type)}, not {_describe(arg)}",
                        arg_node.span, help=f"the signature is {host.signature()}",
                    )
            return host.returns
        if self.schema.variable(node.function) is not None:
            self.report("Q210", f"`{node.function}` is a variable, not a function",
                        self.names.call(node))
            return ANY
        candidates = [*self.schema.functions, *(
            b.name for s in self.scopes for b in s.values() if b.kind == "function")]
        suggestions = did_you_mean(node.function, candidates)
        self.report(
            "Q210", f"unknown function `{node.function}`", self.names.call(node),
            help=help_for(suggestions)
            or "define it with `let` or register it with `schema.with_functions(...)`",
            suggestions=tuple(suggestions),
        )
        return ANY

    def _Lambda(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Lambda)
        self._function_body(node)
        return FUNCTION

    def _function_body(self, node: ast.Lambda) -> SchemaType:
        self.scopes.append({})
        for param in node.params:
            self.declare(Binding(param, ANY, "parameter", node, used=True),
                         partial(self.names.word, node, param))
        returns = self.expr(node.body)
        self.scopes.pop()
        return returns

    def _Let(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Let)
        self.scopes.append({})
        declared: list[Binding] = []
        for binding_node in node.bindings:
            value = binding_node.value
            span = partial(self.names.binding, binding_node)
            if isinstance(value, ast.Lambda):
                returns = self._function_body(value)
                self.facts.types[id(value)] = FUNCTION
                binding = Binding(binding_node.name, FUNCTION, "function", binding_node,
                                  params=value.params, returns=returns)
            else:
                binding = Binding(binding_node.name, self.expr(value), "let", binding_node)
            self.facts.types[id(binding_node)] = binding.type
            self.declare(binding, span)
            declared.append(binding)
        result = self.expr(node.body)
        for binding in declared:
            if not binding.used:
                self.report(
                    "Q220", f"`{binding.name}` is declared but never used",
                    self.names.binding(binding.node),
                    help="remove the declaration or use it",
                )
        self.scopes.pop()
        return result

    # ------------------------------------------------------------------ operators

    def _Unary(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Unary)
        operand = self.expr(node.operand)
        key = _UNARY_KEYS[node.op]
        found = table.lookup(key, operand)
        if found is None:
            self.report(
                "Q204",
                f"`{_UNARY_WORDS[key]}` is not defined for {_describe(operand)}",
                node.span, help=messages.unary_help(key),
            )
            return BOOLEAN if key == "not" else ANY
        return found

    def _Binary(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Binary)
        left = self.expr(node.left)
        right = self.expr(node.right)
        key = _BINARY_KEYS[node.op]
        if node.op in (ast.BinaryOp.ADD, ast.BinaryOp.SUB):
            # `"2024-01-01" + 1 day`: an ISO string is a date in date arithmetic.
            left = _iso_operand(node.left, left, right)
            right = _iso_operand(node.right, right, left)
        if node.op is ast.BinaryOp.RANGE and TypeKind.NULL not in (left.kind, right.kind):
            self._check_range(node, left, right)
            # `"2024-02-27" .. "2024-03-01"` runs over dates, as at run time
            left, right = _iso_date_endpoint(node.left, left), _iso_date_endpoint(node.right, right)
            left, right = _maybe_temporal(node.left, left, right), _maybe_temporal(
                node.right, right, left)
        found = table.lookup(key, left, right)
        if found is None:
            hint = messages.binary_help(key, left, right)
            if key == "or" and isinstance(node.left, ast.Test) and ast.is_literal(node.right) \
                    and node.left.op is ast.TestOp.EQUAL:
                # `plan is "pro" or "enterprise"`: the second value needs its own test.
                hint = "to accept several values, write `... is in [a, b]`, or repeat the test"
            self.report(
                "Q204",
                f"`{node.op.value}` is not defined for {_describe(left)} and {_describe(right)}",
                node.span, help=hint,
                labels=(Label(node.left.span, _describe(left)),
                        Label(node.right.span, _describe(right))),
            )
            return BOOLEAN if key in ("and", "or") else ANY
        return found

    def _check_range(self, node: ast.Binary, left: SchemaType, right: SchemaType) -> None:
        for side, t in ((node.left, left), (node.right, right)):
            # `number` may hold integers (e.g. `x + 1` with x unknown): left to run time.
            if t.kind is TypeKind.DECIMAL or isinstance(side, ast.FloatLiteral):
                self.report("Q214", f"a range of {_describe(t)} values is not allowed",
                            side.span, help="ranges take integers, single characters or dates")
                return
            if isinstance(side, ast.StringLiteral) and len(side.value) != 1 \
                    and parse_iso_date(side.value) is None:
                self.report("Q214", "a range of strings takes single characters",
                            side.span, help="write e.g. \"a\" .. \"z\"")
                return
        lo, hi = _constant(node.left), _constant(node.right)
        if isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool) \
                and not isinstance(hi, bool) and abs(hi - lo) + 1 > _MAX_RANGE:
            self.report(
                "Q214", f"this range has {abs(hi - lo) + 1} items; the limit is {_MAX_RANGE}",
                node.span, help="use a comparison instead, e.g. `x is between 1 and 100`",
            )

    def _Comparison(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Comparison)
        types = [self.expr(o) for o in node.operands]
        for i, op in enumerate(node.ops):
            left_node, right_node = node.operands[i], node.operands[i + 1]
            self._compare(
                _COMPARE_KEYS[op], op.value, left_node, types[i], right_node, types[i + 1],
                node.span, code="Q204",
            )
        if len(node.ops) == 2:
            self._chain_range(node)
        return BOOLEAN

    def _chain_range(self, node: ast.Comparison) -> None:
        lo, hi = _constant(node.operands[0]), _constant(node.operands[2])
        ops = node.ops
        ascending = all(o in (ast.CompareOp.LT, ast.CompareOp.LE) for o in ops)
        descending = all(o in (ast.CompareOp.GT, ast.CompareOp.GE) for o in ops)
        if not (ascending or descending) or not _comparable_constants(lo, hi):
            return
        if descending:
            lo, hi = hi, lo
        strict = any(o in (ast.CompareOp.LT, ast.CompareOp.GT) for o in ops)
        assert lo is not None and hi is not None
        if lo > hi or (strict and lo == hi):  # type: ignore[operator]
            self.report("Q213", "no value can satisfy this range: it is empty", node.span,
                        help="check the order of the bounds")

    def _compare(
        self, key: str, word: str, left_node: ast.Node, left: SchemaType,
        right_node: ast.Node, right: SchemaType, span: Span, *, code: str,
    ) -> None:
        """One comparison or two-operand test, with literal coercions and 'never' checks."""
        if key in ("==", "!=", "equal"):
            # Equality never fails at run time: a string that is no ISO value of the other
            # side's type is only a value that can never match (Q206), not an error.
            for lit, other in ((right_node, left), (left_node, right)):
                if isinstance(lit, ast.StringLiteral) and other.kind in _TEMPORAL_KINDS \
                        and not _is_iso(lit.value, other.kind):
                    outcome = "true" if key == "!=" else "false"
                    self.report(
                        "Q206", f"{_describe(other)} compared with \"{lit.value}\", which is not "
                        f"an ISO {other.kind.value}: this is always {outcome}", lit.span,
                        help="write an ISO value such as \"2024-07-31\" or \"12:30\"",
                    )
                    return
            self._never_equal(left_node, left, right_node, right, key)
            return
        if TypeKind.NULL in (left.kind, right.kind):
            if key not in ("==", "!=", "equal"):
                self.report("Q222", f"`{word}` with null is always false", span,
                            help="use `is null`, `is defined` or `is empty` to test for "
                            "absence")
            return
        if key in ("before", "after"):
            # These tests read both sides as instants: an ISO string is always a date-time.
            left = self._coerce(left_node, left, right if right.kind in _TEMPORAL_KINDS
                                else DATETIME)
            right = self._coerce(right_node, right, left if left.kind in _TEMPORAL_KINDS
                                 else DATETIME)
            # A string that is no literal (`let s = "2024-01-01"; today is after s`) may be
            # ISO text: "string, maybe temporal", read at run time (Q301 if it is not).
            left = _maybe_temporal(left_node, left, right if right.kind in _TEMPORAL_KINDS
                                   else DATETIME)
            right = _maybe_temporal(right_node, right, left if left.kind in _TEMPORAL_KINDS
                                    else DATETIME)
        else:
            left = self._coerce(left_node, left, right)
            right = self._coerce(right_node, right, left)
        if _is_null_literal(left_node) or _is_null_literal(right_node):
            self.report("Q222", f"`{word}` with null is always false", span,
                        help="use `is null`, `is defined` or `is empty` to test for absence")
            return
        if table.lookup(key, left, right) is None:
            self.report(
                code, f"`{word}` is not defined for {_describe(left)} and {_describe(right)}",
                span, help=messages.compare_help(key, left, right),
                labels=(Label(left_node.span, _describe(left)),
                        Label(right_node.span, _describe(right))),
            )

    def _coerce(self, node: ast.Node, t: SchemaType, other: SchemaType) -> SchemaType:
        """A string literal where a date/time is expected stands for that date/time."""
        if not isinstance(node, ast.StringLiteral) or other.kind not in _TEMPORAL_KINDS:
            return t
        return self._temporal_literal(node, other.kind)

    def _temporal_literal(self, node: ast.StringLiteral, kind: TypeKind) -> SchemaType:
        text = node.value
        if kind is TypeKind.TIME:
            if parse_iso_time(text) is not None:
                return TIME
            expected = "an ISO time such as \"12:30\" or \"08:00:00\""
        else:
            parsed = parse_iso_datetime(text)
            if parsed is not None:
                return DATETIME if len(text) > 10 else DATE
            expected = "an ISO date such as \"2024-07-31\" or date-time such as " \
                       "\"2024-07-31T12:00:00Z\""
        self.report(
            "Q218", f"\"{text}\" is not a valid {kind.value}", node.span,
            help=f"write {expected}",
        )
        return {TypeKind.TIME: TIME, TypeKind.DATE: DATE}.get(kind, DATETIME)

    def _never_equal(
        self, left_node: ast.Node, left: SchemaType, right_node: ast.Node, right: SchemaType,
        key: str,
    ) -> None:
        for lit_node, lit, other_node, other in (
            (right_node, right, left_node, left), (left_node, left, right_node, right),
        ):
            if not ast.is_literal(lit_node) or isinstance(lit_node, ast.NullLiteral):
                continue
            if ast.is_literal(other_node):
                continue
            if other.kind is TypeKind.STRING and other.enum is not None \
                    and isinstance(lit_node, ast.StringLiteral):
                self._enum_value(lit_node, other, other_node)
                return
            a, b = table.category(lit), table.category(other)
            if a is None or b is None or _may_equal(a, b):
                continue
            outcome = "false" if key in ("==", "equal") else "true"
            self.report(
                "Q206",
                f"{_describe(other)} compared with {_describe(lit)}: this is always {outcome}",
                lit_node.span,
                help=messages.literal_help(other, lit_node),
                labels=(Label(other_node.span, _describe(other)),),
            )
            return

    def _enum_value(self, lit_node: ast.StringLiteral, t: SchemaType, subject: ast.Node) -> None:
        values = t.enum or ()
        if lit_node.value in values:
            return
        # a value in another case (`"Male"` for `"male"`) first: the likeliest slip
        folded = lit_node.value.casefold()
        same = [v for v in values if v.casefold() == folded]
        suggestions = [*same, *did_you_mean(lit_node.value, values)][:3]
        owner = self._path_text(subject)
        where = f"`{owner}`" if owner else "this value"
        self.report(
            "Q207",
            f"\"{lit_node.value}\" is not one of the values of {where}: "
            + ", ".join(f'"{v}"' for v in values),
            lit_node.span,
            help=help_for(suggestions, quote='"') or "use one of the allowed values",
            suggestions=tuple(suggestions),
        )

    def _path_text(self, node: ast.Node) -> str:
        if isinstance(node, ast.Criterion):
            return ".".join(node.path)
        path = self.facts.paths.get(id(node))
        return "'s ".join(p for p in path if p != "custom") if path else ""

    # ------------------------------------------------------------------ tests

    def _Test(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Test)
        op = node.op
        if op in _SUBJECT_TESTS:
            return self._subject_test(node)
        subject = self.expr(node.subject)
        args = [self.expr(a) for a in node.args]
        key = _TEST_KEYS[op]
        word = _TEST_WORDS.get(op, key)
        if op in (ast.TestOp.DEFINED, ast.TestOp.EMPTY):
            return BOOLEAN
        if op is ast.TestOp.EQUAL:
            self._compare(key, word, node.subject, subject, node.args[0], args[0], node.span,
                          code="Q205")
            self._mode(node, subject, args[0])
            return BOOLEAN
        if op in _ORDERING_TESTS or op in (ast.TestOp.BEFORE, ast.TestOp.AFTER):
            for arg_node, arg in zip(node.args, args, strict=True):
                self._compare(key, word, node.subject, subject, arg_node, arg, node.span,
                              code="Q205")
            if op is ast.TestOp.BETWEEN:
                self._between(node)
            return BOOLEAN
        if op is ast.TestOp.AT_TIME:
            arg = args[0]
            if subject.kind is TypeKind.NULL or arg.kind is TypeKind.NULL:
                return BOOLEAN
            if isinstance(node.args[0], ast.StringLiteral):
                arg = self._temporal_literal(node.args[0], TypeKind.TIME)
            if isinstance(node.subject, ast.StringLiteral):
                subject = self._temporal_literal(node.subject, TypeKind.DATETIME)
            arg = _maybe_temporal(node.args[0], arg, TIME)
            subject = _maybe_temporal(node.subject, subject, DATETIME)
            self._table_test(node, key, word, subject, arg)
            return BOOLEAN
        # Membership may look for a null element (`[1, null] contains null` holds).
        membership = op in (ast.TestOp.CONTAINS, ast.TestOp.IN)
        if not membership and any(_is_null_literal(a) for a in node.args):
            self.report("Q222", f"`{word}` with null is always false", node.span,
                        help="use `is null`, `is defined` or `is empty` to test for absence")
            return BOOLEAN
        self._table_test(node, key, word, subject, args[0])
        self._enum_members(node, subject, args[0])
        return BOOLEAN

    def _table_test(
        self, node: ast.Test, key: str, word: str, subject: SchemaType, arg: SchemaType
    ) -> None:
        if table.lookup(key, subject, arg) is None:
            self.report(
                "Q205", f"`{word}` is not defined for {_describe(subject)} and {_describe(arg)}",
                node.span, help=messages.test_help(key, subject),
                labels=(Label(node.subject.span, _describe(subject)),
                        Label(node.args[0].span, _describe(arg))),
            )

    def _between(self, node: ast.Test) -> None:
        lo, hi = _constant(node.args[0]), _constant(node.args[1])
        if _comparable_constants(lo, hi) and lo > hi:  # type: ignore[operator]
            self.report(
                "Q213", "the lower bound is greater than the upper bound: nothing is between them",
                node.span, help="swap the bounds (`between` includes both ends)",
            )

    def _mode(self, node: ast.Test, subject: SchemaType, arg: SchemaType) -> None:
        mode = node.mode
        if mode is None:
            return
        wanted = {
            ast.CompareMode.IGNORING_CASE: {table.Cat.STRING},
            ast.CompareMode.IGNORING_TIME: {table.Cat.DATE, table.Cat.DATETIME,
                                            table.Cat.STRING},
            ast.CompareMode.IGNORING_FRACTION: {table.Cat.NUMBER},
            ast.CompareMode.CONSIDERING_NUMBERS: {table.Cat.NUMBER, table.Cat.STRING},
        }[mode]
        for t in (subject, arg):
            cat = table.category(t)
            if cat is not None and cat not in wanted:
                self.report(
                    "Q205", f"`{mode.value}` does not apply to {_describe(t)}", node.span,
                    help=f"`{mode.value}` compares " + " or ".join(sorted(c.value for c in wanted))
                    + " values",
                )
                return

    def _enum_members(self, node: ast.Test, subject: SchemaType, arg: SchemaType) -> None:
        """Literal values tested against enum-typed attributes (`is in`, `contains`, ...)."""
        op = node.op
        arg_node = node.args[0]
        if op is ast.TestOp.IN and subject.enum is not None \
                and isinstance(arg_node, ast.ListLiteral):
            for item in arg_node.items:
                if isinstance(item, ast.StringLiteral):
                    self._enum_value(item, subject, node.subject)
        elif op is ast.TestOp.CONTAINS and subject.kind is TypeKind.LIST \
                and subject.element.enum is not None and isinstance(arg_node, ast.StringLiteral):
            self._enum_value(arg_node, subject.element, node.subject)
        elif op in (ast.TestOp.CONTAINS_ALL, ast.TestOp.CONTAINS_EITHER,
                    ast.TestOp.CONTAINS_NONE) and subject.element.enum is not None \
                and isinstance(arg_node, ast.ListLiteral):
            for item in arg_node.items:
                if isinstance(item, ast.StringLiteral):
                    self._enum_value(item, subject.element, node.subject)

    def _subject_test(self, node: ast.Test) -> SchemaType:
        wanted, path = _SUBJECT_TESTS[node.op]
        subject = node.subject
        if isinstance(subject, ast.Variable) and subject.name.casefold() == wanted \
                and self.lookup(subject.name) is None:
            self.expr(subject)
            self.facts.paths[id(subject)] = (wanted, *path)
            return BOOLEAN
        self.expr(subject)
        if isinstance(subject, ast.Variable) and self.lookup(subject.name) is None \
                and self.schema.variable(subject.name) is None:
            return BOOLEAN  # an unknown name (Q200) says enough
        self.report(
            "Q216", f"`is {node.op.value}` applies only to `{wanted}`", node.span,
            help=f"write `{wanted} is {'not ' if node.negated else ''}{node.op.value}`",
        )
        return BOOLEAN

    # ------------------------------------------------------------------ conditionals, quantifiers

    def _condition(self, node: ast.Node, what: str) -> None:
        t = self.expr(node)
        if table.category(t) not in (None, table.Cat.BOOLEAN):
            self.report("Q223", f"the {what} is {_describe(t)}, not a boolean", node.span,
                        help="write a test here, e.g. `... is defined` or `... is \"x\"`")

    def _Conditional(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Conditional)
        then = self.expr(node.then)
        self._condition(node.condition, "condition after `if`")
        otherwise = self.expr(node.otherwise) if node.otherwise is not None else NULL
        return table.join(then, otherwise)

    def _Quantifier(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Quantifier)
        collection = self.expr(node.collection)
        element = self._iterate(node.collection, collection)
        if node.count is not None:
            count = self.expr(node.count)
            if table.category(count) not in (None, table.Cat.NUMBER):
                self.report("Q204", f"the count must be a number, not {_describe(count)}",
                            node.count.span)
        self.scopes.append({})
        self.declare(Binding(node.item, element, "item", node, used=True),
                     partial(self.names.word, node, node.item))
        if node.index is not None:
            index_type = STRING if collection.kind in (TypeKind.MAP,) else INTEGER
            self.declare(Binding(node.index, index_type, "index", node, used=True),
                         partial(self.names.word, node, node.index, last=True))
        self._condition(node.condition, "condition after `satisfies`")
        self.scopes.pop()
        return BOOLEAN

    def _iterate(self, node: ast.Node, t: SchemaType) -> SchemaType:
        cat = table.category(t)
        if cat in (None, table.Cat.LIST, table.Cat.MAP):
            return t.element
        self.report("Q221", f"{_describe(t)} is not a collection", node.span,
                    help="quantifiers and collection macros take a list or a map")
        return ANY

    def _Macro(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Macro)
        operand = self.expr(node.operand)
        key = node.op.value
        if table.category(operand) is None:
            return table.lookup(key, operand) or ANY
        if key != "count" or table.category(operand) is not table.Cat.STRING:
            self._iterate(node.operand, operand)
        if table.category(operand) not in (table.Cat.LIST, table.Cat.MAP, table.Cat.STRING):
            return ANY
        if key in ("sum", "average"):
            element = operand.element
            if table.category(element) not in (None, table.Cat.NUMBER):
                self.report("Q204", f"`{key} of` needs numbers, not {_describe(element)} items",
                            node.span)
                return ANY
        if operand.kind is TypeKind.OBJECT and operand.iterate:
            spec = operand.field(operand.iterate)
            operand = spec.type if spec is not None else operand
        found = table.lookup(key, operand)
        if found is None:
            self.report("Q221", f"`{key} of` does not apply to {_describe(operand)}",
                        node.operand.span)
            return ANY
        return found

    def _ThisPeriod(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.ThisPeriod)
        return INTEGER if node.period is ast.Period.YEAR else STRING

    def _UnitsBetween(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.UnitsBetween)
        for side in (node.start, node.end):
            t = self.expr(side)
            if isinstance(side, ast.StringLiteral):
                t = self._temporal_literal(side, TypeKind.DATETIME)
            if table.category(t) not in (None, table.Cat.DATE, table.Cat.DATETIME, table.Cat.TIME):
                self.report("Q204", f"`number of {node.unit.value} between` takes dates or "
                            f"date-times, not {_describe(t)}", side.span)
        return INTEGER

    # ------------------------------------------------------------------ modifiers

    def _Cast(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Cast)
        operand = self.expr(node.operand)
        target = node.type
        if isinstance(node.operand, ast.StringLiteral) and target in (
            ast.CastType.DATE, ast.CastType.DATETIME, ast.CastType.TIME,
        ):
            kind = {ast.CastType.DATE: TypeKind.DATE, ast.CastType.TIME: TypeKind.TIME}.get(
                target, TypeKind.DATETIME)
            self._temporal_literal(node.operand, kind)
        cat = table.category(operand)
        if cat is not None and cat not in table.CASTS[target.value]:
            self.report(
                "Q212", f"a {_describe(operand)} cannot be converted to {target.value}",
                node.span,
                help="the conversions are listed in docs/operators.md",
            )
        return _CAST_RESULTS[target]

    def _AtTime(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.AtTime)
        operand = self.expr(node.operand)
        time = self.expr(node.time)
        if isinstance(node.time, ast.StringLiteral):
            time = self._temporal_literal(node.time, TypeKind.TIME)
        if isinstance(node.operand, ast.StringLiteral):
            operand = self._temporal_literal(node.operand, TypeKind.DATETIME)
        time = _maybe_temporal(node.time, time, TIME)
        operand = _maybe_temporal(node.operand, operand, DATETIME)
        found = table.lookup("at", operand, time)
        if found is None:
            self.report(
                "Q204", f"`at` is not defined for {_describe(operand)} and {_describe(time)}",
                node.span, help="write a date or date-time, then `at` and a time such as \"12:00\"",
            )
            return DATETIME
        return found

    def _unary_modifier(self, key: str, node: ast.Node, operand_node: ast.Node) -> SchemaType:
        operand = self.expr(operand_node)
        found = table.lookup(key, operand)
        if found is None:
            code = "Q221" if key in ("without duplicates", "sorted") else "Q204"
            self.report(code, f"`{key}` does not apply to {_describe(operand)}", node.span)
            return ANY
        return found

    def _ChangeCase(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.ChangeCase)
        return self._unary_modifier("case", node, node.operand)

    def _Round(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Round)
        if node.scale is not None:
            scale = self.expr(node.scale)
            if table.category(scale) not in (None, table.Cat.NUMBER):
                self.report("Q204", f"the scale must be an integer, not {_describe(scale)}",
                            node.scale.span)
        return self._unary_modifier("rounded", node, node.operand)

    def _WithoutDuplicates(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.WithoutDuplicates)
        return self._unary_modifier("without duplicates", node, node.operand)

    def _Sort(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.Sort)
        return self._unary_modifier("sorted", node, node.operand)

    # ------------------------------------------------------------------ events

    def _EventTest(self, node: ast.Node) -> SchemaType:
        assert isinstance(node, ast.EventTest)
        self.facts.paths[id(node)] = ("events",)
        if node.window is not None and node.window.kind in (
            ast.WindowKind.THIS_SESSION, ast.WindowKind.LAST_SESSION,
        ):
            self.facts.paths[id(node.window)] = ("session", "id")
        if node.argument is not None:
            arg = self.expr(node.argument)
            ok = {table.Cat.STRING}
            if node.event is ast.EventKind.INTEREST_SHOWN:
                ok = {table.Cat.STRING, table.Cat.LIST}
            if table.category(arg) not in (None, *ok):
                self.report("Q204", f"expected a string here, not {_describe(arg)}",
                            node.argument.span)
        if node.criteria is not None:
            self._criteria(node.event, node.criteria)
        if node.count is not None:
            times = self.expr(node.count.times)
            if table.category(times) not in (None, table.Cat.NUMBER):
                self.report("Q204", f"the number of times must be a number, not "
                            f"{_describe(times)}", node.count.times.span)
        if node.window is not None and node.window.duration is not None:
            self.expr(node.window.duration)
        return BOOLEAN

    def _criteria(self, event: ast.EventKind, criteria: ast.Criteria) -> None:
        if isinstance(criteria, ast.CriteriaGroup):
            for item in criteria.items:
                self._criteria(event, item)
            return
        value = self.expr(criteria.value)
        path = criteria.path
        if len(path) > 1 and path[0].casefold() in _EVENT_NOUNS.get(event, ()):
            path = path[1:]  # `packaging of cart's costs`: the cart is the event itself
        head = path[0] if path else ""
        if event is ast.EventKind.EVENT_OCCURRED:
            return  # custom events carry any properties
        prop = property_type(event, head)
        if prop is None:
            names = list(EVENT_PROPERTIES.get(event, {}))
            suggestions = did_you_mean(head, names)
            self.report(
                "Q217", f"`{event.value}` events have no property `{head}`",
                self.names.criterion(criteria),
                help=help_for(suggestions)
                or ("its properties are " + ", ".join(f"`{n}`" for n in names)
                    if names else "this event has no properties"),
                suggestions=tuple(suggestions),
            )
            return
        for name in path[1:]:
            resolved = prop.resolve(name)
            prop = resolved.type if resolved is not None else ANY
        key = _CRITERION_TESTS[criteria.op]
        if key == "equal":
            self._never_equal(criteria, prop, criteria.value, value, "equal")
            return
        value = self._coerce(criteria.value, value, prop)
        if table.lookup(key, prop, value) is None:
            self.report(
                "Q205",
                f"`{criteria.op.value}` is not defined for {_describe(prop)} and "
                f"{_describe(value)}", criteria.span,
                help=f"`{head}` is {_describe(prop)}",
            )

    def _Criterion(self, node: ast.Node) -> SchemaType:  # visited through _criteria
        return ANY

    def _Binding(self, node: ast.Node) -> SchemaType:  # visited through _Let
        return ANY


_NODE_CLASSES: tuple[type[ast.Node], ...] = (
    ast.NullLiteral, ast.BooleanLiteral, ast.IntegerLiteral, ast.DecimalLiteral,
    ast.FloatLiteral, ast.StringLiteral, ast.RegexLiteral, ast.DurationLiteral,
    ast.ListLiteral, ast.MapLiteral, ast.MapEntry, ast.Variable, ast.Attribute, ast.Index,
    ast.Call, ast.Lambda, ast.Let, ast.Binding, ast.Unary, ast.Binary, ast.Comparison,
    ast.Conditional, ast.Test, ast.Quantifier, ast.Macro, ast.ThisPeriod, ast.UnitsBetween,
    ast.Cast, ast.AtTime, ast.ChangeCase, ast.Round, ast.WithoutDuplicates, ast.Sort,
    ast.EventTest, ast.Criterion,
)

#: Node class → the checker method that types it (looked up once, not per query).
_DISPATCH: dict[type[ast.Node], Callable[[Checker, ast.Node], SchemaType]] = {
    cls: getattr(Checker, "_" + cls.__name__) for cls in _NODE_CLASSES
}


# ---------------------------------------------------------------------- helpers

def _iso_operand(node: ast.Node, t: SchemaType, other: SchemaType) -> SchemaType:
    """An ISO date/date-time string literal in date arithmetic counts as a date/date-time."""
    if not isinstance(node, ast.StringLiteral) or other.kind not in (
        TypeKind.DURATION, TypeKind.DATE, TypeKind.DATETIME,
    ):
        return t
    parsed = parse_iso_datetime(node.value)
    if parsed is None:
        return t
    return DATETIME if len(node.value) > 10 else DATE


def _maybe_temporal(node: ast.Node, t: SchemaType, target: SchemaType) -> SchemaType:
    """A string that is no literal, where a date, date-time or time is expected: typed as
    that ("string, maybe temporal") and converted at run time, as the reference does."""
    if t.kind is TypeKind.STRING and not isinstance(node, ast.StringLiteral) \
            and target.kind in _TEMPORAL_KINDS:
        return target
    return t


def _iso_date_endpoint(node: ast.Node, t: SchemaType) -> SchemaType:
    """A range endpoint written as an ISO date string is a date (the range yields dates)."""
    if isinstance(node, ast.StringLiteral) and len(node.value) != 1 \
            and parse_iso_date(node.value) is not None:
        return DATE
    return t


def _is_iso(text: str, kind: TypeKind) -> bool:
    if kind is TypeKind.TIME:
        return parse_iso_time(text) is not None
    return parse_iso_datetime(text) is not None


def _is_null_literal(node: ast.Node) -> bool:
    return isinstance(node, ast.NullLiteral)


def _constant(node: ast.Node) -> object:
    """The value of a numeric/string literal (sign included), else None."""
    if isinstance(node, ast.IntegerLiteral | ast.DecimalLiteral | ast.FloatLiteral):
        return node.value
    if isinstance(node, ast.Unary) and node.op is ast.UnaryOp.NEG:
        inner = _constant(node.operand)
        if isinstance(inner, int | float | decimal.Decimal) and not isinstance(inner, bool):
            return -inner
    if isinstance(node, ast.StringLiteral):
        return node.value
    return None


def _comparable_constants(a: object, b: object) -> bool:
    numbers = (int, float, decimal.Decimal)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, numbers) and isinstance(b, numbers):
        return not (isinstance(a, float) and a != a) and not (isinstance(b, float) and b != b)
    return isinstance(a, str) and isinstance(b, str) and (
        parse_iso_date(a) is not None and parse_iso_date(b) is not None
    )


def _may_equal(a: table.Cat, b: table.Cat) -> bool:
    """Whether values of two categories can ever be equal (`==`)."""
    if a is b:
        return True
    temporal = {table.Cat.DATE, table.Cat.DATETIME}
    if a in temporal and b in temporal:
        return True
    # A string may be an ISO date/time, and a string equals a regex match in no case.
    return {a, b} <= {table.Cat.STRING, table.Cat.DATE, table.Cat.DATETIME, table.Cat.TIME}


def _assignable(arg: SchemaType, param: SchemaType, node: ast.Node) -> bool:
    a, p = table.category(arg), table.category(param)
    if a is None or p is None or a is p:
        return True
    return bool(p in (table.Cat.DATE, table.Cat.DATETIME, table.Cat.TIME)
                and isinstance(node, ast.StringLiteral))


