"""The static checker: names, types and every diagnostic of a query, in one pass.

    check(text, schema=None, *, expect=None) -> list[Diagnostic]   # never raises
    analyze(text_or_ast, schema=None, *, expect=None) -> Analysis   # types, reads, hover

`expect=bool` is the audience use: a query whose result is not boolean gets Q208.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from segmentql.checker.analyzer import Binding, Checker
from segmentql.checker.cost import estimate
from segmentql.checker.fixes import add_fixes
from segmentql.checker.operator_words import suggest_operators
from segmentql.codes import severity
from segmentql.diagnostics import Diagnostic, sort_diagnostics
from segmentql.runtime.budget import DEFAULT_BUDGET, Budget
from segmentql.schema.functions import HostFunction
from segmentql.schema.model import Schema
from segmentql.schema.types import ANY, AttributeSpec, SchemaType, TypeKind
from segmentql.syntax import ast as syn

__all__ = ["Analysis", "analyze", "check"]


@dataclass(eq=False, slots=True)
class Analysis:
    """What the checker knows about one query (for the compiler, editors and explainers)."""

    ast: syn.Expr | None
    diagnostics: list[Diagnostic]
    schema: Schema
    source: str | None = None
    #: The query's result type (`any` when it could not be checked).
    result: SchemaType = ANY
    _types: dict[int, SchemaType] = field(default_factory=dict, repr=False)
    _specs: dict[int, AttributeSpec] = field(default_factory=dict, repr=False)
    _paths: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _bindings: dict[int, Binding] = field(default_factory=dict, repr=False)
    #: The attribute paths the query reads, e.g. ("user", "custom", "plan"); event
    #: expressions read ("events",).
    reads: frozenset[tuple[str, ...]] = frozenset()
    _functions: dict[int, HostFunction] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """No errors (warnings and infos allowed)."""
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def type_of(self, node: syn.Node) -> SchemaType:
        """The type of a node of this analysis' AST (by identity); `any` if unknown."""
        return self._types.get(id(node), ANY)

    def attribute_of(self, node: syn.Node) -> AttributeSpec | None:
        """The declared variable/attribute a `Variable`/`Attribute`/`Index` node reads."""
        return self._specs.get(id(node))

    def path_of(self, node: syn.Node) -> tuple[str, ...] | None:
        """The resolved path a node reads from the context, e.g. ("user", "custom", "plan")."""
        return self._paths.get(id(node))

    def binding_of(self, node: syn.Node) -> Binding | None:
        """The local binding (`let`, quantifier item, parameter) a name or call refers to."""
        return self._bindings.get(id(node))

    def function_of(self, node: syn.Node) -> HostFunction | None:
        """The host function a `Call` node calls (None for `let` functions and unknowns)."""
        return self._functions.get(id(node))

    def nodes(self) -> Iterator[syn.Node]:
        if self.ast is not None:
            yield from self.ast.walk()

    def node_at(self, offset: int) -> syn.Node | None:
        """The innermost node whose span holds the code-point `offset` (for hover)."""
        best: syn.Node | None = None
        for node in self.nodes():
            span = node.span
            inside = span.start <= offset < span.end or span.start == offset == span.end
            if inside and (best is None or span.end - span.start <= best.span.end - best.span.start):
                best = node
        return best

    def hover(self, offset: int) -> str | None:
        """`type` and description of the node at `offset`, as Markdown-free text."""
        node = self.node_at(offset)
        if node is None:
            return None
        text = self.type_of(node).describe()
        binding = self.binding_of(node)
        if binding is not None and isinstance(node, syn.Variable | syn.Call):
            if binding.kind == "function":
                params = ", ".join(binding.params)
                return f"{binding.name}({params}) -> {binding.returns.describe()} (let function)"
            return f"{binding.name}: {binding.type.describe()} ({_KIND_WORDS[binding.kind]})"
        function = self.function_of(node)
        if function is not None:
            return function.signature() + (f"\n{function.description}"
                                           if function.description else "")
        spec = self.attribute_of(node)
        if spec is not None:
            path = self.path_of(node)
            name = ".".join(path) if path else spec.name
            text = f"{name}: {text}"
            if spec.description:
                text += f"\n{spec.description}"
            if spec.deprecated is not False:
                text += "\n(deprecated)"
        return text


_KIND_WORDS = {"let": "let", "item": "quantifier item", "index": "quantifier index",
               "parameter": "parameter", "function": "let function"}


def analyze(
    text_or_ast: str | syn.Expr,
    schema: Schema | None = None,
    *,
    expect: type | None = None,
    max_length: int = 500,
    max_depth: int = 64,
    budget: Budget | None = None,
) -> Analysis:
    """Parse (if given text) and check a query. Never raises on bad input: parse errors come
    back as diagnostics with `ast=None`."""
    schema = schema if schema is not None else Schema.default()
    source: str | None = None
    diagnostics: list[Diagnostic] = []
    if isinstance(text_or_ast, str):
        from segmentql.syntax.parser import parse_with_diagnostics

        source = text_or_ast
        parsed = parse_with_diagnostics(source, max_length=max_length, max_depth=max_depth)
        diagnostics.extend(suggest_operators(parsed.diagnostics, source))
        root: syn.Expr | None = parsed.ast
    else:
        root = text_or_ast
    if root is None:
        diagnostics = add_fixes(sort_diagnostics(diagnostics), source or "", schema, None, {})
        return Analysis(None, diagnostics, schema, source)
    checker = Checker(schema, source)
    try:
        result = checker.run(root)
    except RecursionError:  # only with limits raised far above the defaults
        deep = Diagnostic("Q151", severity("Q151"), "query nested too deeply to check",
                          root.span, help="lower the nesting, or keep max_depth at 64")
        return Analysis(root, sort_diagnostics([*diagnostics, deep]), schema, source)
    facts = checker.facts
    # A span the parser already reported on (`x or or`: a missing value, not a variable
    # named `or`) gets no second, less helpful finding from the checker.
    reported = {(d.span.start, d.span.end) for d in diagnostics if d.is_error}
    diagnostics.extend(
        d for d in facts.diagnostics if (d.span.start, d.span.end) not in reported
    )
    if expect is not None:
        diagnostics.extend(_expectation(root, result, expect))
    if not any(d.is_error for d in diagnostics):
        diagnostics.extend(estimate(root, budget or DEFAULT_BUDGET))
    targets = facts.targets
    reads = frozenset([path for node_id, path in facts.paths.items() if node_id not in targets])
    if len(diagnostics) > 1:
        diagnostics = sort_diagnostics(diagnostics)
    if diagnostics and source is not None:
        diagnostics = add_fixes(diagnostics, source, schema, root, facts.types)
    return Analysis(
        root, diagnostics, schema, source, result,
        facts.types, facts.specs, facts.paths, facts.bindings, reads, facts.functions,
    )


def check(
    text: str,
    schema: Schema | None = None,
    *,
    expect: type | None = None,
    max_length: int = 500,
    max_depth: int = 64,
    budget: Budget | None = None,
) -> list[Diagnostic]:
    """Every diagnostic of a query (syntax, names, types, worst-case cost against `budget`),
    sorted; never raises on any text."""
    return analyze(
        text, schema, expect=expect, max_length=max_length, max_depth=max_depth, budget=budget
    ).diagnostics


_EXPECTED_KINDS: dict[type, tuple[TypeKind, ...]] = {
    bool: (TypeKind.BOOLEAN,),
    str: (TypeKind.STRING,),
    int: (TypeKind.INTEGER,),
    float: (TypeKind.NUMBER, TypeKind.INTEGER, TypeKind.DECIMAL),
    list: (TypeKind.LIST,),
    dict: (TypeKind.MAP, TypeKind.OBJECT),
}


def _expectation(root: syn.Expr, result: SchemaType, expect: type) -> list[Diagnostic]:
    wanted = _EXPECTED_KINDS.get(expect)
    if wanted is None or result.kind in (*wanted, TypeKind.ANY, TypeKind.NULL):
        return []
    body: syn.Expr = root
    while isinstance(body, syn.Let):
        body = body.body
    name = "a boolean" if expect is bool else f"{expect.__name__}"
    message = f"the query's result is {result.describe()}, but {name} is expected"
    help_text = (
        "an audience must be a condition: add a test, e.g. `... is defined` or `... is \"x\"`"
        if expect is bool else None
    )
    return [Diagnostic("Q208", severity("Q208"), message, body.span, help=help_text)]
