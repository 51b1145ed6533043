"""From the AST to Python source: one function per entry point, compiled once.

Like jinja's CodeGenerator, the generator writes Python text and `compile()`s it; unlike a
template engine, nothing from the query or the data is ever spliced into that text. Every
literal, name, regex, span and helper reaches the code through the namespace as `_kN`
(constants), `_sN` (spans) or a fixed helper name, and locals are numbered (`_tN`, `_lN`),
so the source depends only on the query's *shape*.

Three renderings of an expression:
- `value(node)`: its full value (a value or an error value), used by `evaluate`;
- `true(node)` / `false(node)`: a Python bool, "the value is exactly true" / "the value is
  false or null", used by `matches` and audience sets. `and`/`or`/`not` distribute over these
  (`E and false` is false, `true or E` is true, so error absorption needs no bookkeeping),
  and tests against literals become inline dict/str operations.
Attribute reads rooted at a context variable and used more than once are hoisted into the
function prologue; constant subexpressions are folded at compile time.

Plain mode (`plain=True`) writes the hot path of `matches`: it assumes every context variable
whose attributes are read is a `dict` without a `custom` key, reads with one `dict.get` each,
and bails out to the general function (which handles any `Mapping`, `custom` attributes and
odd values) when the prologue sees otherwise. Its slow branches (a value missing or of an
unexpected class) are closures built here and called as `_kN(t, mapping)`: CPython's
`compile()` costs per syntax node, and those branches were a third of the source.
"""

from __future__ import annotations

import enum
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, ClassVar

from segmentql.diagnostics import Span
from segmentql.runtime import helpers
from segmentql.runtime.access import VIRTUAL, case_variants
from segmentql.runtime.budget import DEFAULT_BUDGET, Budget, Meter, meter_factory
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.events import EventQuery
from segmentql.runtime.prepared import CUSTOM, FOLDED
from segmentql.runtime.temporal import Duration
from segmentql.syntax import ast as A

#: Names that are not read from `variables`: the clock and its dates.
CLOCK_NAMES = frozenset({"now", "today", "yesterday", "tomorrow"})
TIME_OPS = frozenset({A.TestOp.BEFORE, A.TestOp.AFTER, A.TestOp.AT_TIME})
TIME_CASTS = frozenset({A.CastType.DATE, A.CastType.DATETIME, A.CastType.TIME})


class _CodeCache:
    """`compile()` of generated source, cached by the text (least recently used go first).
    The text depends only on the query's shape (values reach the code through its
    namespace), so queries of one shape, such as `user's plan is "a"` and
    `user's plan is "b"`, share one code object."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._codes: OrderedDict[str, types.CodeType] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, source: str) -> types.CodeType:
        code = self.cached(source)
        if code is None:
            code = compile(source, "<segmentql>", "exec")
            with self._lock:
                self._codes[source] = code
                if len(self._codes) > self.size:
                    self._codes.popitem(last=False)
        return code

    def cached(self, source: str) -> types.CodeType | None:
        """The code object of `source` if it was compiled before, else None."""
        with self._lock:
            code = self._codes.get(source)
            if code is not None:
                self._codes.move_to_end(source)
            return code

    def cache_clear(self) -> None:
        with self._lock:
            self._codes.clear()


compile_source = _CodeCache(1024)


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
#: Field annotations that never hold a node (scalars, names, enumerations are added below).
_SCALAR_ANNOTATIONS = frozenset({
    "str", "bool", "int", "float", "decimal.Decimal", "int | decimal.Decimal", "str | None",
    "tuple[str, ...]", "tuple[CompareOp, ...]",
})


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class `cls` that may hold nodes: every field but the span and
    those annotated with a scalar type or an enumeration (read once per class)."""
    names = []
    for f in fields(cls):
        annotation = str(f.type)
        base = annotation.removesuffix(" | None")
        enum_type = getattr(A, base, None)
        if (f.name == "span" or annotation in _SCALAR_ANNOTATIONS
                or (isinstance(enum_type, type) and issubclass(enum_type, enum.Enum))):
            continue
        names.append(f.name)
    _CHILD_FIELDS[cls] = result = tuple(names)
    return result


def child_nodes(node: A.Node) -> list[A.Node]:
    """`node.children()` as a list, without looking up the dataclass fields each time."""
    names = _CHILD_FIELDS.get(node.__class__)
    if names is None:
        names = _child_fields(node.__class__)
    out: list[A.Node] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, A.Node):
            out.append(value)
        elif value.__class__ is tuple:
            out.extend(_nodes_in(value))
    return out


def _nodes_in(items: tuple[Any, ...]) -> list[A.Node]:
    out: list[A.Node] = []
    for item in items:
        if isinstance(item, A.Node):
            out.append(item)
        elif item.__class__ is tuple:
            out.extend(_nodes_in(item))
    return out


def walk(root: A.Node) -> list[A.Node]:
    """`root` and its descendants, pre-order (iterative: deep trees are fine)."""
    out: list[A.Node] = []
    stack = [root]
    known = _CHILD_FIELDS
    while stack:
        node = stack.pop()
        out.append(node)
        names = known.get(node.__class__)
        if names is None:
            names = _child_fields(node.__class__)
        if names:  # leaves (literals, variables) have no node fields
            children = child_nodes(node)
            children.reverse()
            stack.extend(children)
    return out


def _slow_branch(
    helper: Callable[..., Any], resolve: Callable[[Any], Any], args: tuple[Any, ...], want: bool
) -> Callable[[Any, Any], bool]:
    """`helper(t if t is not None else resolve(mapping), *args) is want` as a function."""
    if len(args) == 2:
        a, b = args

        def slow2(t: Any, mapping: Any) -> bool:
            if t is None:
                t = resolve(mapping)
            return helper(t, a, b) is want

        return slow2

    def slow(t: Any, mapping: Any) -> bool:
        if t is None:
            t = resolve(mapping)
        return helper(t, *args) is want

    return slow


class CodegenError(Exception):
    """A construct that cannot be compiled (e.g. an unknown function); carries a span."""

    def __init__(self, code: str, message: str, span: Span) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span


@dataclass
class _Scope:
    names: dict[str, str]
    kinds: dict[str, str] = field(default_factory=dict)  # local -> "lambda:N" for arity


class CodeGenerator:
    """Turns expressions into Python expression text; see the module docstring."""

    def __init__(
        self,
        *,
        functions: Mapping[str, Any] | None = None,
        trace: bool = False,
        plain: bool = False,
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.ns: dict[str, Any] = dict(helpers.NAMESPACE)
        #: The evaluation budget; `_meter` makes each evaluation's meter (see `meter`).
        self.budget = budget
        self.ns["_meter"] = meter_factory(budget)
        #: The code written so far uses the meter `_b` (the prologue then creates it).
        self.metered = False
        self._const_ids: dict[tuple[type, Any], str] = {}
        self._counter = 0
        self.scopes: list[_Scope] = []
        self.functions = {k.lower(): v for k, v in (functions or {}).items()}
        self.trace = trace
        #: Plain mode: code for the common case where every context variable the query
        #: reads attributes of is a dict without `custom`; its prologue bails out to the
        #: general function otherwise (see `prologue`).
        self.plain = plain
        self.trace_nodes: dict[int, A.Node] = {}
        self.uses_time = False
        #: An attribute named `age` is read (it may be derived from birthDate and `now`).
        self.reads_age = False
        self._constant: dict[int, tuple[A.Node, bool]] = {}
        # Context variables read: lowered name -> (value local, custom local or None)
        self.variables: dict[str, list[str | None]] = {}
        self._var_order: list[str] = []
        # Hoisting: read key -> count (pass 1) and key -> local (pass 2)
        self.counting = True
        self.read_counts: dict[tuple[str, ...], int] = {}
        self.hoisted: dict[tuple[str, ...], str] = {}
        self._hoist_nodes: dict[tuple[str, ...], A.Attribute] = {}
        # Plain mode: reads used only as the target of further reads (pass 1), and the
        # hoisted locals known to hold a dict (the prologue bails out or substitutes `{}`
        # for null otherwise)
        self.target_counts: dict[tuple[str, ...], int] = {}
        self.dict_locals: set[str] = set()
        #: `guard_subject`'s resolved reads: code -> (value local, mapping, resolver)
        self._resolvers: dict[str, tuple[str, str, Callable[[Any], Any]]] = {}
        #: Plain mode: a context variable is read whole, or its attribute `custom` is read
        #: (a Prepared's views lack both), so the prologue sends a Prepared mapping to the
        #: general path.
        self.whole_reads = False
        self.ns.setdefault("_EMPTY", {})  # stands for a null target; never mutated

    # --------------------------------------------------------------------------------------
    # Namespace and names
    # --------------------------------------------------------------------------------------

    def fresh(self, prefix: str = "_t") -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def const(self, value: Any) -> str:
        cls = value.__class__
        # Decimals keep their scale and floats their sign: key them by their text.
        key: tuple[type, Any] | None = (
            (cls, repr(value)) if isinstance(value, Decimal | float) else (cls, value)
        )
        try:
            name = self._const_ids.get(key)  # type: ignore[arg-type]
        except TypeError:  # unhashable: never shared
            key = name = None
        if name is not None:
            return name
        name = self.fresh("_k")
        self.ns[name] = value
        if key is not None:
            self._const_ids[key] = name
        return name

    def span(self, node: A.Node) -> str:
        name = self.fresh("_s")
        self.ns[name] = node.span
        return name

    def lookup(self, name: str) -> str | None:
        lowered = name.lower()
        for scope in reversed(self.scopes):
            if lowered in scope.names:
                return scope.names[lowered]
        return None

    def lambda_arity(self, local: str) -> int | None:
        for scope in reversed(self.scopes):
            kind = scope.kinds.get(local)
            if kind is not None:
                return int(kind.split(":", 1)[1])
        return None

    def sibling(self, *, trace: bool = False, plain: bool = False) -> CodeGenerator:
        """A generator writing more functions into the same namespace; create it after this
        one has generated everything (its numbering continues from here)."""
        other = CodeGenerator(trace=trace, plain=plain, budget=self.budget)
        other.functions = self.functions
        other.ns = self.ns
        other._const_ids = self._const_ids
        other._counter = self._counter
        other.counting = False
        return other

    # --------------------------------------------------------------------------------------
    # Whole functions
    # --------------------------------------------------------------------------------------

    def prepare(self, roots: list[A.Node]) -> None:
        """Pass 1: count attribute reads (for hoisting), and which are only ever read
        through (targets of further reads).

        One walk over the tree. Names bound by `let`, arrow functions and quantifiers are
        counted as if they were context variables: that can only hoist a read that is then
        not used, or count a use as direct that is not, never the reverse (a hoisted read is
        treated as a dict only when every counted use reads through it).
        """
        self.counting = False
        self._reset_locals()
        counts = self.read_counts
        targets = self.target_counts
        for root in roots:
            for node in walk(root):
                if isinstance(node, A.Attribute):
                    if node.name.lower() == "age":
                        self.reads_age = True
                    key = self._static_key(node)
                    if key is None:
                        continue
                    counts[key] = counts.get(key, 0) + 1
                    if len(key) > 2:
                        targets[key[:-1]] = targets.get(key[:-1], 0) + 1
        for key, count in sorted(self.read_counts.items(), key=lambda kv: len(kv[0])):
            if count >= 2:
                self.hoisted[key] = ""

    @staticmethod
    def _static_key(node: A.Attribute) -> tuple[str, ...] | None:
        names = [node.name]
        target = node.target
        while isinstance(target, A.Attribute):
            names.append(target.name)
            target = target.target
        if not isinstance(target, A.Variable) or target.name.lower() in CLOCK_NAMES:
            return None
        names.append(target.name.lower())
        return tuple(reversed(names))

    def _reset_locals(self) -> None:
        self.variables = {}
        self._var_order = []
        self.scopes = []

    def prologue(self, bail: str = "") -> list[str]:
        """Statements reading the context variables and hoisted attributes.

        In plain mode, `bail` is the statement run when a variable whose attributes are
        read is not a dict or has `custom` attributes.
        """
        lines: list[str] = ["_b = _meter()"] if self.metered else []
        if self.plain and self.whole_reads:
            # prepared variables are views: whole-variable reads need the values as
            # given, which the general path reads
            lines.append(f"if _v.__class__ is not _dict: {bail}")
        for lowered in self._var_order:
            local, custom = self.variables[lowered]
            k = self.const(lowered)
            if self.plain and custom is not None:
                # `dict.get` raises TypeError on anything but a dict (the caller sends that
                # to the general path), so one call checks the class and `custom` (a
                # prepared view has none)
                lines.append(f"{local} = _dget(_v, {k})")
                lines.append(f"if _dget({local}, _CUSTOM) is not None: {bail}")
                if self.whole_reads:
                    lines.append(f"if _FOLDED in {local}: {bail}")
                continue
            lines.append(f"{local} = _v.get({k}, _M) if _v.__class__ is _dict else _M")
            lines.append(f"if {local} is _M: {local} = _readvar(_v, {k}, {k})")
            if self.whole_reads:  # a prepared view: read the value as given
                lines.append(f"if {local}.__class__ is _dict and _FOLDED in {local}: "
                             f"{local} = {local}[_FOLDED]")
            if custom is not None:
                lines.append(
                    f"{custom} = {local}.get(_CUSTOM) if {local}.__class__ is _dict "
                    f"else _custom_of({local})"
                )
                lines.append(
                    f"if {custom} is not None and {custom}.__class__ is not _dict: "
                    f"{custom} = _custom_of({local})"
                )
        return lines

    def hoisted_lines(self, bail: str = "") -> list[str]:
        lines = []
        for key, local in self.hoisted.items():
            if local:
                lines.append(f"{local} = {self._hoist_code[key]}")
                if local in self.dict_locals:
                    # reading through null gives null, as reading from an empty dict does
                    lines.append(f"if {local}.__class__ is not _dict:")
                    lines.append(f"    if {local} is not None: {bail}")
                    lines.append(f"    {local} = _EMPTY")
        return lines

    def build_function(
        self, name: str, body: str, params: str = "_v, _now, _tz", *, bail: str = ""
    ) -> str:
        lines = [f"def {name}({params}):"]
        for line in [*self.prologue(bail), *self.hoisted_lines(bail), f"return {body}"]:
            lines.append("    " + line)
        return "\n".join(lines) + "\n"

    def build_guarded(self, name: str, body: str, params: str, *, bail: str = "") -> str:
        """A function returning whether `body` is true, exactly True or False (truth mode).

        If anything raises, `_rescue` decides: False when the budget ran out, else the
        query evaluated again with every helper's exceptions turned into error values
        (`compiler/contracts.py`), so an `or` can still absorb them.
        """
        clock = "_now, _tz" if "_now" in params else "None, None"
        lines = [f"def {name}({params}):", "    try:"]
        for line in [*self.prologue(bail), *self.hoisted_lines(bail),
                     f"return True if ({body}) else False"]:
            lines.append("        " + line)
        lines += ["    except Exception as _x:", f"        return _rescue(_x, _v, {clock})"]
        return "\n".join(lines) + "\n"

    _hoist_code: dict[tuple[str, ...], str]

    def generate_bodies(self, emit: Callable[[], list[str]]) -> list[str]:
        """Pass 2: generate code; hoisted reads get their local on first generation."""
        self._hoist_code = {}
        return emit()

    # --------------------------------------------------------------------------------------
    # Value mode
    # --------------------------------------------------------------------------------------

    def value(self, node: A.Node) -> str:
        code = self._value(node)
        if self.trace and not isinstance(node, A.LITERAL_TYPES):
            self.trace_nodes[id(node)] = node
            return f"_rec({self.const(id(node))}, {code})"
        return code

    def _value(self, node: A.Node) -> str:
        folded = self.fold(node)
        if folded is not None:
            return folded
        method = getattr(self, "v_" + type(node).__name__, None)
        if method is None:
            raise CodegenError("Q300", f"cannot compile {type(node).__name__}", node.span)
        return method(node)  # type: ignore[no-any-return]

    # constant folding ---------------------------------------------------------------------

    def is_constant(self, node: A.Node) -> bool:
        entry = self._constant.get(id(node))
        if entry is None:
            # the node is kept in the entry so that its id cannot be reused meanwhile
            entry = self._constant[id(node)] = (node, self._is_constant(node))
        return entry[1]

    def _is_constant(self, node: A.Node) -> bool:
        if isinstance(node, A.LITERAL_TYPES):
            return True
        if isinstance(node, A.ListLiteral | A.MapLiteral | A.MapEntry | A.Unary | A.Binary
                      | A.Comparison | A.Conditional | A.Test | A.Cast | A.ChangeCase
                      | A.Round | A.WithoutDuplicates | A.Sort | A.Macro):
            if isinstance(node, A.Test) and node.op in (
                A.TestOp.ANONYMOUS, A.TestOp.IDENTIFIED, A.TestOp.RETURNING, A.TestOp.STARTING
            ):
                return False
            if isinstance(node, A.Cast) and node.type in TIME_CASTS:
                return False
            if isinstance(node, A.Test) and (node.op in TIME_OPS or node.mode is not None):
                return False
            return all(self.is_constant(c) for c in child_nodes(node))
        return False

    def fold(self, node: A.Node) -> str | None:
        if isinstance(node, A.LITERAL_TYPES) or self.trace or self.counting:
            return None
        if not self.is_constant(node):
            return None
        method = getattr(self, "v_" + type(node).__name__)
        metered = self.metered
        code = method(node)
        try:  # folding obeys the budget: a constant that exceeds it is left to run time
            value = eval(code, self.ns, {"_b": Meter(self.budget)})
        except Exception:
            return None
        self.metered = metered
        if isinstance(value, list):
            value = tuple(value)
        return self.const(value)

    # literals ----------------------------------------------------------------------------

    def v_NullLiteral(self, node: A.NullLiteral) -> str:
        return "None"

    def v_BooleanLiteral(self, node: A.BooleanLiteral) -> str:
        return "True" if node.value else "False"

    def v_IntegerLiteral(self, node: A.IntegerLiteral) -> str:
        return self.const(node.value)

    def v_DecimalLiteral(self, node: A.DecimalLiteral) -> str:
        return self.const(node.value)

    def v_FloatLiteral(self, node: A.FloatLiteral) -> str:
        return self.const(node.value)

    def v_StringLiteral(self, node: A.StringLiteral) -> str:
        return self.const(node.value)

    def v_RegexLiteral(self, node: A.RegexLiteral) -> str:
        try:
            regex = helpers.compile_regex(node.pattern, node.flags)
        except ValueError as exc:
            raise CodegenError("Q211", str(exc), node.span) from None
        return self.const(regex)

    def v_DurationLiteral(self, node: A.DurationLiteral) -> str:
        self.uses_time = True
        try:
            return self.const(Duration.of(node.amount, node.unit.value))
        except ValueError as exc:
            raise CodegenError("Q310", str(exc), node.span) from None

    def meter(self) -> str:
        """The meter's name in generated code (the function's prologue then creates it)."""
        self.metered = True
        return "_b"

    def built(self, code: str, node: A.Node) -> str:
        """A list or map literal's code; inside `let` or an arrow function (where one
        value can be reused, so sizes can double) its size is paid to the meter."""
        if not self.scopes:
            return code
        return f"{self.meter()}._build({code}, {self.span(node)})"

    def v_ListLiteral(self, node: A.ListLiteral) -> str:
        return self.built("_mklist([" + "".join(self.value(i) + ", " for i in node.items) + "])",
                          node)

    def v_MapLiteral(self, node: A.MapLiteral) -> str:
        pairs = ", ".join(
            f"({self.value(e.key)}, {self.value(e.value)})" for e in node.entries
        )
        return self.built(
            f"_mkmap(({pairs}{',' if len(node.entries) == 1 else ''}), {self.span(node)})", node
        )

    # names and reads ---------------------------------------------------------------------

    def v_Variable(self, node: A.Variable) -> str:
        local = self.lookup(node.name)
        if local is not None:
            return local
        lowered = node.name.lower()
        if lowered in CLOCK_NAMES:
            self.uses_time = True
            return f"_clock({self.const(lowered)}, _now, _tz)"
        self.whole_reads = True
        return self.variable_local(lowered, custom=False)

    def variable_local(self, lowered: str, *, custom: bool) -> str:
        entry = self.variables.get(lowered)
        if entry is None:
            entry = [self.fresh("_v"), None]
            self.variables[lowered] = entry
            self._var_order.append(lowered)
        if custom and entry[1] is None:
            entry[1] = self.fresh("_c")
        return entry[1] if custom else entry[0]  # type: ignore[return-value]

    def context_root(self, node: A.Node) -> str | None:
        """The lowered name of the context variable `node` is, if it is one."""
        if isinstance(node, A.Variable) and self.lookup(node.name) is None:
            lowered = node.name.lower()
            if lowered not in CLOCK_NAMES:
                return lowered
        return None

    def read_key(self, node: A.Node) -> tuple[str, ...] | None:
        if isinstance(node, A.Attribute):
            parent = self.read_key(node.target)
            return None if parent is None else (*parent, node.name)
        root = self.context_root(node)
        return None if root is None else (root,)

    def v_Attribute(self, node: A.Attribute) -> str:
        key = self.read_key(node)
        if key is not None and not self.trace:
            if self.counting:
                self.read_counts[key] = self.read_counts.get(key, 0) + 1
            elif key in self.hoisted:
                local = self.hoisted[key]
                if not local:
                    code = self.read_code(node)
                    local = self.fresh("_h")
                    self.hoisted[key] = local
                    self._hoist_code[key] = code
                    if self.plain and self.target_counts.get(key) == self.read_counts[key]:
                        self.dict_locals.add(local)
                return local
        return self.read_code(node)

    def read_code(self, node: A.Attribute) -> str:
        name = self.const(node.name)
        lowered = self.const(node.name.lower())
        t = self.fresh()
        root = self.context_root(node.target)
        if root is not None and node.name.lower() == CUSTOM:
            self.whole_reads = True
        if root is not None and self.plain:
            self.variable_local(root, custom=True)  # marks it: the prologue checks it
            var = self.variable_local(root, custom=False)
            fast = f"{var}.get({name})"
            slow = self.miss_code(var, node.name, lowered)
            if (root, node.name.lower()) in VIRTUAL:
                slow = (
                    f"_readvattr({var}, None, {name}, {lowered}, {self.const(root)}, "
                    f"{self.span(node)})"
                )
            return f"({t} if ({t} := {fast}) is not None else {slow})"
        if root is not None:
            custom = self.variable_local(root, custom=True)
            var = self.variable_local(root, custom=False)
            c = self.fresh()
            fast = (
                f"(({c} if ({custom} is not None and ({c} := {custom}.get({name})) is not None)"
                f" else ({var}.get({name}, _M) if {custom} is None else _M))"
                f" if {var}.__class__ is _dict else _M)"
            )
            slow = (
                f"_readvattr({var}, {custom}, {name}, {lowered}, {self.const(root)}, "
                f"{self.span(node)})"
            )
            return f"({t} if ({t} := {fast}) is not _M else {slow})"
        target = self.value(node.target)
        if target in self.dict_locals:
            miss = self.miss_code(target, node.name, lowered)
            return f"({t} if ({t} := {target}.get({name})) is not None else {miss})"
        u = self.fresh()
        miss = self.miss_code(u, node.name, lowered)
        in_dict = f"({t} if ({t} := {u}.get({name})) is not None else {miss})"
        other = f"_readattr({u}, {name}, {lowered}, {self.span(node)})"
        return f"({in_dict} if ({u} := {target}).__class__ is _dict else {other})"

    def guard_subject(self, node: A.Node, t: str) -> tuple[str, str]:
        """For `(fast if (t := HEAD).__class__ is C else SLOW(ARG))`: (HEAD, ARG).

        In plain mode a direct read of a context variable's attribute is the bare
        `var.get(name)`: a value of class C is never None, so the miss (a key that differs
        in case) is resolved only on the slow branch, where ARG is the resolved read.
        """
        raw = self.raw_read(node)
        if raw is None:
            return self.value(node), t
        head, miss, resolve = raw
        arg = f"({t} if {t} is not None else {miss})"
        self._resolvers[arg] = (t, *resolve)
        return head, arg

    def slow_test(self, helper: str, arg: str, args: tuple[str, ...], want: bool) -> str:
        """The slow branch `helper(arg, *args) is want` of a guarded test.

        When `arg` is a plain-mode read from `guard_subject` and `args` are constants, the
        branch is one call of a closure built here (`_kN(t, mapping)`): the same calls, one
        level deeper, but much less source for `compile()` (the branch runs only when the
        value is missing or not of the expected class)."""
        code = f"{helper}({arg}, {', '.join(args)}) is {want!r}"
        resolver = self._resolvers.get(arg)
        if (resolver is None or helper not in self.ns
                or not all(a in self.ns and a[:2] in ("_k", "_s") for a in args)):
            return code
        t, mapping, resolve = resolver
        fn = _slow_branch(self.ns[helper], resolve, tuple(self.ns[a] for a in args), want)
        return f"{self.const(fn)}({t}, {mapping})"

    def raw_read(
        self, node: A.Node
    ) -> tuple[str, str, tuple[str, Callable[[Any], Any]]] | None:
        """(`var.get(name)`, the read's value when that gave None, (`var`, that value as a
        function of the mapping)) for a plain-mode read of a context variable's attribute,
        or of a hoisted dict's, that is not itself hoisted; else None."""
        if (not self.plain or self.counting or self.trace or not isinstance(node, A.Attribute)):
            return None
        key = self.read_key(node)
        if key is None or key in self.hoisted:
            return None
        name = self.const(node.name)
        lowered = self.const(node.name.lower())
        root = self.context_root(node.target)
        if root is None:
            target = self.value(node.target)
            if target not in self.dict_locals:
                return None
            miss = self.miss_code(target, node.name, lowered)
            return f"{target}.get({name})", miss, (target, self.miss_resolver(node.name))
        if node.name.lower() == CUSTOM:
            self.whole_reads = True
        self.variable_local(root, custom=True)  # marks it: the prologue checks it
        var = self.variable_local(root, custom=False)
        if (root, node.name.lower()) in VIRTUAL:
            k_root, k_span = self.const(root), self.span(node)
            miss = f"_readvattr({var}, None, {name}, {lowered}, {k_root}, {k_span})"
            read_virtual = self.ns["_readvattr"]
            args = (node.name, node.name.lower(), root, self.ns[k_span])

            def resolve(mapping: Any) -> Any:
                return read_virtual(mapping, None, *args)

            return f"{var}.get({name})", miss, (var, resolve)
        miss = self.miss_code(var, node.name, lowered)
        return f"{var}.get({name})", miss, (var, self.miss_resolver(node.name))

    def miss_equals(self, node: A.Node, mapping: str, miss: str, value: str | bool) -> str | None:
        """`miss == value` (`is` for a boolean) as less source: the common outcome, no key
        in another case, stays inline; the rest is one call of a closure built here."""
        if not isinstance(node, A.Attribute) or not miss.startswith("(None if "):
            return None
        # a Prepared view (FOLDED) holds every lower-cased name: a lower-case miss is final
        folded = "_FOLDED not in " + mapping + " and " if miss.startswith(
            "(None if _FOLDED in ") else ""
        name = node.name
        lowered = name.lower()
        variants = case_variants(lowered)
        if variants is None:
            return None
        fold_miss = self.ns["_miss"]
        if isinstance(value, bool):
            def equals(m: Any) -> Any:
                return fold_miss(m, lowered, name) is value
        else:
            def equals(m: Any) -> Any:
                return fold_miss(m, lowered, name) == value
        return (f"{folded}not {self.const(variants)}.isdisjoint({mapping}) "
                f"and {self.const(equals)}({mapping})")

    def miss_resolver(self, name: str) -> Callable[[Any], Any]:
        """`miss_code` as a function of the mapping."""
        fold_miss = self.ns["_miss"]
        lowered = name.lower()
        variants = case_variants(lowered)
        if variants is None:
            return lambda mapping: fold_miss(mapping, lowered, name)
        return lambda mapping: (
            mapping.get(lowered) if FOLDED in mapping
            else None if variants.isdisjoint(mapping) else fold_miss(mapping, lowered, name)
        )

    def miss_code(self, mapping: str, name: str, lowered: str) -> str:
        """After `mapping.get(name)` gave None: null unless a key matches ignoring case
        (and the exact key is absent: an exact key holding null is a hit)."""
        variants = case_variants(name.lower())
        miss = f"_miss({mapping}, {lowered}, {self.const(name)})"
        if variants is None:
            return miss
        if name == name.lower() and any(mapping == e[0] for e in self.variables.values()):
            # a context variable's value may be a Prepared view, complete in lower case
            return (f"(None if _FOLDED in {mapping} or {self.const(variants)}."
                    f"isdisjoint({mapping}) else {miss})")
        return f"(None if {self.const(variants)}.isdisjoint({mapping}) else {miss})"

    def v_Index(self, node: A.Index) -> str:
        return f"_index({self.value(node.target)}, {self.value(node.index)}, {self.span(node)})"

    # functions ---------------------------------------------------------------------------

    def v_Lambda(self, node: A.Lambda) -> str:
        params = [self.fresh("_p") for _ in node.params]
        self.scopes.append(_Scope({p.lower(): loc for p, loc in zip(node.params, params,
                                                                      strict=True)}))
        try:
            body = self.value(node.body)
        finally:
            self.scopes.pop()
        return f"{self.meter()}._function((lambda {', '.join(params)}: {body}), {self.span(node)})"

    def v_Let(self, node: A.Let) -> str:
        return self._let(node, self.value)

    def _let(self, node: A.Let, body_mode: Callable[[A.Node], str]) -> str:
        scope = _Scope({})
        self.scopes.append(scope)
        try:
            parts = []
            for binding in node.bindings:
                code = self.value(binding.value)
                local = self.fresh("_l")
                scope.names[binding.name.lower()] = local
                if isinstance(binding.value, A.Lambda):
                    scope.kinds[local] = f"lambda:{len(binding.value.params)}"
                parts.append(f"({local} := {code})")
            body = body_mode(node.body)
        finally:
            self.scopes.pop()
        return f"({', '.join(parts)}, {body})[-1]"

    def v_Call(self, node: A.Call) -> str:
        args = [self.value(a) for a in node.args]
        local = self.lookup(node.function)
        span = self.span(node)
        if local is not None:
            arity = self.lambda_arity(local)
            if arity is not None:
                if len(args) < arity:
                    missing = ErrorValue(
                        "Q308",
                        f"'{node.function}' takes {arity} argument(s), {len(args)} given",
                        node.span,
                    )
                    return self.const(missing)
                return f"{local}({', '.join(args[:arity])})"
            return f"_calldyn({local}, ({''.join(a + ', ' for a in args)}), {span})"
        host = self.functions.get(node.function.lower())
        if host is None:
            raise CodegenError("Q210", f"unknown function '{node.function}'", node.span)
        return f"_hostcall({self.const(host)}, ({''.join(a + ', ' for a in args)}), {span})"

    # operators ---------------------------------------------------------------------------

    def v_Unary(self, node: A.Unary) -> str:
        operand = self.value(node.operand)
        helper = {
            A.UnaryOp.NOT: "_not",
            A.UnaryOp.NEG: "_neg",
            A.UnaryOp.POS: "_pos",
            A.UnaryOp.PERCENT: "_pct",
        }[node.op]
        return f"{helper}({operand}, {self.span(node)})"

    _BINARY: ClassVar[dict[A.BinaryOp, str]] = {
        A.BinaryOp.ADD: "_add",
        A.BinaryOp.SUB: "_sub",
        A.BinaryOp.MUL: "_mul",
        A.BinaryOp.DIV: "_div",
        A.BinaryOp.MOD: "_mod",
        A.BinaryOp.POW: "_pow",
        A.BinaryOp.RANGE: "_range",
    }

    def v_Binary(self, node: A.Binary) -> str:
        op = node.op
        if op is A.BinaryOp.AND or op is A.BinaryOp.OR:
            left = self.logical(node.left)
            right = self.logical(node.right)
            t = self.fresh()
            if op is A.BinaryOp.AND:
                return f"(False if ({t} := {left}) is False else _and({t}, {right}))"
            return f"(True if ({t} := {left}) is True else _or({t}, {right}))"
        if op is A.BinaryOp.FALLBACK:
            t = self.fresh()
            return f"({t} if ({t} := {self.value(node.left)}) is not None else " \
                   f"{self.value(node.right)})"
        if op is A.BinaryOp.CONCAT:
            return (f"{self.meter()}._text(_concat({self.value(node.left)}, "
                    f"{self.value(node.right)}), {self.span(node)})")
        if op in (A.BinaryOp.ADD, A.BinaryOp.SUB) and self._has_duration(node):
            self.uses_time = True
        return (
            f"{self._BINARY[op]}({self.value(node.left)}, {self.value(node.right)}, "
            f"{self.span(node)})"
        )

    def _has_duration(self, node: A.Binary) -> bool:
        return any(isinstance(n, A.DurationLiteral) for n in walk(node))

    def logical(self, node: A.Node) -> str:
        """A logical operand: True/False/error (null is false, other values an error)."""
        code = self.value(node)
        if self.yields_truth(node):
            return code
        return f"_truth({code}, {self.span(node)})"

    def yields_truth(self, node: A.Node) -> bool:
        if isinstance(node, A.Test | A.Comparison | A.Quantifier | A.EventTest
                      | A.BooleanLiteral):
            return True
        if isinstance(node, A.Binary) and node.op in (A.BinaryOp.AND, A.BinaryOp.OR):
            return True
        return isinstance(node, A.Unary) and node.op is A.UnaryOp.NOT

    _COMPARE: ClassVar[dict[A.CompareOp, str]] = {
        A.CompareOp.EQ: "_eq",
        A.CompareOp.NE: "_ne",
        A.CompareOp.LT: "_lt",
        A.CompareOp.LE: "_le",
        A.CompareOp.GT: "_gt",
        A.CompareOp.GE: "_ge",
    }

    def v_Comparison(self, node: A.Comparison) -> str:
        span = self.span(node)
        first = self.value(node.operands[0])
        if len(node.ops) == 1:
            return f"{self._COMPARE[node.ops[0]]}({first}, {self.value(node.operands[1])}, {span})"
        middle = self.fresh()
        c = self.fresh()
        left = f"{self._COMPARE[node.ops[0]]}({first}, ({middle} := " \
               f"{self.value(node.operands[1])}), {span})"
        right = f"{self._COMPARE[node.ops[1]]}({middle}, {self.value(node.operands[2])}, {span})"
        return f"(False if ({c} := {left}) is False else _and({c}, {right}))"

    def v_Conditional(self, node: A.Conditional) -> str:
        c = self.fresh()
        cond = self.value(node.condition)
        then = self.value(node.then)
        other = "None" if node.otherwise is None else self.value(node.otherwise)
        return (
            f"({then} if ({c} := _truth({cond}, {self.span(node.condition)})) is True else "
            f"({other} if {c} is False else {c}))"
        )

    # tests -------------------------------------------------------------------------------

    def test_positive(self, node: A.Test) -> str:
        op = node.op
        span = self.span(node)
        if op is A.TestOp.DEFINED:
            return f"_defined({self.value(node.subject)})"
        if op is A.TestOp.EMPTY:
            return f"_empty({self.value(node.subject)})"
        if op in (A.TestOp.ANONYMOUS, A.TestOp.IDENTIFIED):
            read = self.value(A.Attribute(node.subject, "id", span=node.span))
            if op is A.TestOp.ANONYMOUS:
                return f"(not _defined({read}))"
            return f"_defined({read})"
        if op is A.TestOp.RETURNING:
            stats = A.Attribute(node.subject, "stats", span=node.span)
            read = self.value(A.Attribute(stats, "sessions", span=node.span))
            return f"_gt({read}, {self.const(1)}, {span})"
        if op is A.TestOp.STARTING:
            stats = A.Attribute(node.subject, "stats", span=node.span)
            read = self.value(A.Attribute(stats, "pageviews", span=node.span))
            return f"_le({read}, {self.const(1)}, {span})"
        subject = self.value(node.subject)
        args = [self.value(a) for a in node.args]
        if op in TIME_OPS:
            self.uses_time = True
        if op is A.TestOp.EQUAL:
            if node.mode is None:
                return f"_eq({subject}, {args[0]}, {span})"
            if node.mode is A.CompareMode.IGNORING_TIME:
                self.uses_time = True
            return f"_eqmode({subject}, {args[0]}, {self.const(node.mode.value)})"
        if op is A.TestOp.BETWEEN:
            return f"_between({subject}, {args[0]}, {args[1]}, {span})"
        return f"{helpers.TEST_HELPERS[op.value]}({subject}, {args[0]}, {span})"

    def v_Test(self, node: A.Test) -> str:
        positive = self.test_positive(node)
        if node.negated:
            return f"_negt({positive})"
        return positive

    # quantifiers, macros, modifiers ----------------------------------------------------------

    def collection(self, node: A.Node) -> str:
        code = self.value(node)
        if self.context_root(node) == "cart":
            return f"_cartitems({code})"
        return code

    def v_Quantifier(self, node: A.Quantifier) -> str:
        coll = f"{self.meter()}._items({self.collection(node.collection)}, {self.span(node)})"
        item = self.fresh("_q")
        index = self.fresh("_q")
        names = {node.item.lower(): item}
        if node.index:
            names[node.index.lower()] = index
        self.scopes.append(_Scope(names))
        try:
            cond = self.value(node.condition)
        finally:
            self.scopes.pop()
        count = "None" if node.count is None else self.value(node.count)
        return (
            f"_quantify({self.const(node.kind.value)}, {coll}, "
            f"(lambda {item}, {index}: {cond}), {count}, {node.distinct!r}, {self.span(node)})"
        )

    def v_Macro(self, node: A.Macro) -> str:
        if node.op is A.MacroOp.COUNT and not self.trace:
            t = self.fresh()
            slow = f"_macro({self.const(node.op.value)}, {t}, {self.span(node)})"
            return f"(_len({t}) if ({t} := {self.collection(node.operand)}).__class__ is _list " \
                   f"else {slow})"
        return (
            f"_macro({self.const(node.op.value)}, {self.collection(node.operand)}, "
            f"{self.span(node)})"
        )

    def v_ThisPeriod(self, node: A.ThisPeriod) -> str:
        self.uses_time = True
        return f"_this({self.const(node.period.value)}, _now, _tz)"

    def v_UnitsBetween(self, node: A.UnitsBetween) -> str:
        self.uses_time = True
        return (
            f"_between_units({self.const(node.unit.value)}, {self.value(node.start)}, "
            f"{self.value(node.end)}, {self.span(node)})"
        )

    def v_Cast(self, node: A.Cast) -> str:
        if node.type in TIME_CASTS:
            self.uses_time = True
        return f"_cast({self.value(node.operand)}, {self.const(node.type.value)}, " \
               f"{self.span(node)})"

    def v_AtTime(self, node: A.AtTime) -> str:
        self.uses_time = True
        return f"_attime({self.value(node.operand)}, {self.value(node.time)}, {self.span(node)})"

    def v_ChangeCase(self, node: A.ChangeCase) -> str:
        return f"_case({self.value(node.operand)}, {self.const(node.style.value)}, " \
               f"{self.span(node)})"

    def v_Round(self, node: A.Round) -> str:
        scale = "None" if node.scale is None else self.value(node.scale)
        return (
            f"_round({self.value(node.operand)}, {self.const(node.mode.value)}, {scale}, "
            f"{self.span(node)})"
        )

    def v_WithoutDuplicates(self, node: A.WithoutDuplicates) -> str:
        span = self.span(node)
        return f"_dedupe({self.meter()}._items({self.value(node.operand)}, {span}), {span})"

    def v_Sort(self, node: A.Sort) -> str:
        return (
            f"_sort({self.meter()}._sorting({self.value(node.operand)}, {self.span(node)}), "
            f"{self.const(node.direction.value)}, "
            f"{self.const(node.order.value)}, {self.span(node)})"
        )

    # events ------------------------------------------------------------------------------

    def v_EventTest(self, node: A.EventTest) -> str:
        self.uses_time = True
        window = node.window
        query = EventQuery(
            node.event.value,
            negated=node.negated,
            determiner=None if node.determiner is None else node.determiner.value,
            count_op="at least" if node.count is None else node.count.op.value,
            window=None if window is None else window.kind.value,
            span=node.span,
            link_parts=node.criteria is not None and _reads_link_parts(node.criteria),
        )
        events = self.variable_local("events", custom=False)
        argument = "None" if node.argument is None else self.value(node.argument)
        times = "None" if node.count is None else self.value(node.count.times)
        duration = "None"
        if window is not None and window.duration is not None:
            duration = self.value(window.duration)
        session = "None"
        if window is not None and window.kind in (A.WindowKind.THIS_SESSION,
                                                  A.WindowKind.LAST_SESSION):
            session = self.value(
                A.Attribute(A.Variable("session", span=window.span), "id", span=window.span)
            )
        criteria = "None"
        report = self.fresh("_r") if self.trace else None
        if node.criteria is not None:
            p = self.fresh("_e")
            criteria = f"(lambda {p}: {self.criteria(node.criteria, p, report)})"
        run = (
            f"{self.const(query)}.run({events}, {argument}, {criteria}, {times}, {duration}, "
            f"{session}, _now, _tz"
        )
        if report is None:
            return run + ")"
        # explain: the run notes its window, events and count in a report `_rec` keeps
        return f"(lambda {report}: {run}, {report}))(_rec.events({self.const(id(node))}))"

    def criteria(
        self, node: A.Criterion | A.CriteriaGroup, props: str, report: str | None = None
    ) -> str:
        if isinstance(node, A.Criterion):
            code = (
                f"_criterion({props}, {self.const(node.path)}, {self.const(node.op.value)}, "
                f"{self.value(node.value)}, {self.span(node)})"
            )
            if report is not None:
                code = f"{report}.criterion({self.span(node)}, {code})"
            return code
        parts = [self.criteria(item, props, report) for item in node.items]
        code = parts[0]
        for part in parts[1:]:
            t = self.fresh()
            if node.join is A.CriteriaJoin.AND:
                code = f"(False if ({t} := {code}) is False else _and({t}, {part}))"
            else:
                code = f"(True if ({t} := {code}) is True else _or({t}, {part}))"
        return code

    # --------------------------------------------------------------------------------------
    # Truth mode: Python bools, no error bookkeeping
    # --------------------------------------------------------------------------------------

    def true(self, node: A.Node) -> str:
        """Python expression: the value of `node` is exactly True."""
        return self.truth_is(node, want=True)

    def false(self, node: A.Node) -> str:
        """Python expression: the value of `node` is false or null (so `not node` is true)."""
        return self.truth_is(node, want=False)

    def truth_is(self, node: A.Node, *, want: bool) -> str:
        """`true(node)` or, with `want` False, its dual `false(node)` (De Morgan for
        `and`/`or`, `not` flips `want`)."""
        if isinstance(node, A.Binary) and node.op in (A.BinaryOp.AND, A.BinaryOp.OR):
            joiner = " and " if (node.op is A.BinaryOp.AND) == want else " or "
            left = self.truth_is(node.left, want=want)
            return f"({left}{joiner}{self.truth_is(node.right, want=want)})"
        if isinstance(node, A.Unary) and node.op is A.UnaryOp.NOT:
            return self.truth_is(node.operand, want=not want)
        if isinstance(node, A.BooleanLiteral):
            return "True" if node.value == want else "False"
        if isinstance(node, A.Let):
            return self._let(node, self.true if want else self.false)
        if isinstance(node, A.Test) and not self.trace:
            fast = self.test_fast(node, want=node.negated != want)
            if fast is not None:
                return fast
        if isinstance(node, A.Comparison) and not self.trace:
            fast = self.compare_fast(node, want=want)
            if fast is not None:
                return fast
        if want:
            return f"({self.value(node)} is True)"
        t = self.fresh()
        return f"(({t} := {self.value(node)}) is False or {t} is None)"

    def test_fast(self, node: A.Test, *, want: bool) -> str | None:
        """Inline code for a test against a literal: `want` True gives "the positive test
        is true", False gives "the positive test is false" (an error is neither)."""
        if (node.op is A.TestOp.BETWEEN and node.mode is None
                and all(isinstance(a, A.IntegerLiteral) for a in node.args)):
            low, high = (self.const(a.value) for a in node.args)  # type: ignore[union-attr]
            t = self.fresh()
            subject, arg_t = self.guard_subject(node.subject, t)
            inline = f"({low} <= {t} <= {high})" if want else f"not ({low} <= {t} <= {high})"
            slow = self.slow_test("_between", arg_t, (low, high, self.span(node)), want)
            return f"({inline} if ({t} := {subject}).__class__ is _int else {slow})"
        if node.mode is not None or len(node.args) != 1:
            if node.op is A.TestOp.DEFINED and not node.args:
                code = self.test_positive(node)
                return code if want else f"(not {code})"
            return None
        arg = node.args[0]
        op = node.op
        t = self.fresh()
        if op is A.TestOp.EQUAL:
            if want and isinstance(arg, A.StringLiteral | A.BooleanLiteral):
                raw = self.raw_read(node.subject)
                if raw is not None:
                    # a hit compares directly; only a None read resolves the miss
                    head, miss, (mapping, _) = raw
                    k = (self.const(arg.value) if isinstance(arg, A.StringLiteral)
                         else repr(arg.value))
                    cmp = "==" if isinstance(arg, A.StringLiteral) else "is"
                    other = self.miss_equals(node.subject, mapping, miss, arg.value)
                    if other is None:
                        other = f"{miss} {cmp} {k}"
                    return f"(({t} := {head}) {cmp} {k} or ({t} is None and {other}))"
            if isinstance(arg, A.StringLiteral):
                k = self.const(arg.value)
                subject = self.value(node.subject)
                if want:
                    return f"({subject} == {k})"
                return f"(({t} := {subject}) != {k} and {t}.__class__ is not _Err)"
            if isinstance(arg, A.BooleanLiteral | A.NullLiteral):
                k = {True: "True", False: "False", None: "None"}[
                    None if isinstance(arg, A.NullLiteral) else arg.value
                ]
                subject = self.value(node.subject)
                if want:
                    return f"({subject} is {k})"
                return f"(({t} := {subject}) is not {k} and {t}.__class__ is not _Err)"
            if isinstance(arg, A.IntegerLiteral):
                k = self.const(arg.value)
                subject = self.value(node.subject)
                if want:
                    return f"(({t} := {subject}) == {k} and {t}.__class__ is not _bool)"
                return (
                    f"((({t} := {subject}) != {k} or {t}.__class__ is _bool) "
                    f"and {t}.__class__ is not _Err)"
                )
            return None
        if isinstance(arg, A.ListLiteral) and arg.items and op in (
            A.TestOp.IN, A.TestOp.CONTAINS_EITHER, A.TestOp.CONTAINS_ALL,
            A.TestOp.CONTAINS_NONE,
        ):
            return self.set_test_fast(node, arg, want=want)
        if not isinstance(arg, A.StringLiteral | A.RegexLiteral):
            return None
        if isinstance(arg, A.RegexLiteral):
            if op is not A.TestOp.MATCHES:
                return None
            k = self.value(arg)
            found = self.literal_found(k, t)
            inline = found if want else f"(not {found})"
        else:
            k = self.const(arg.value)
            inline_for = {
                A.TestOp.STARTS_WITH: f"{t}.startswith({k})",
                A.TestOp.ENDS_WITH: f"{t}.endswith({k})",
                A.TestOp.MATCHES: f"({k} in {t})",
                A.TestOp.CONTAINS: f"({k} in {t})",
            }
            if op not in inline_for:
                return None
            inline = inline_for[op] if want else f"(not {inline_for[op]})"
        subject, arg_t = self.guard_subject(node.subject, t)
        cls = "_list" if op is A.TestOp.CONTAINS else "_str"
        slow = self.slow_test(helpers.TEST_HELPERS[op.value], arg_t, (k, self.span(node)), want)
        return f"({inline} if ({t} := {subject}).__class__ is {cls} else {slow})"

    def literal_found(self, regex: str, t: str) -> str:
        """`regex` searched in the string `t`: `str` methods when the pattern is plain text
        (on ASCII strings only for `i`, where RE2's case folding reaches beyond ASCII)."""
        literal = self.ns[regex].literal
        if literal is None:
            return f"{regex}.found({t})"
        text = self.const(literal.text)
        s = f"{t}.lower()" if literal.ignore_case else t
        test = {
            "end": f"{s}.endswith({text})",
            "start": f"{s}.startswith({text})",
            "both": f"({s} == {text})",
            "none": f"({text} in {s})",
        }[literal.anchor]
        if literal.ignore_case and literal.anchor in ("end", "both"):
            # Only U+0130 and the Kelvin sign lower to ASCII; U+0130 lowers to `i` plus a
            # combining dot, so it never ends an ASCII suffix, and RE2 folds Kelvin to `k`:
            # a lowered ASCII suffix is an RE2 match whatever the string.
            return f"({test} or (not {t}.isascii() and {regex}.re2_found({t})))"
        if literal.ignore_case:
            return f"({test} if {t}.isascii() else {regex}.re2_found({t}))"
        return test

    def set_test_fast(self, node: A.Test, arg: A.ListLiteral, *, want: bool) -> str | None:
        """`x is in ["a", "b"]`, `tags contains either|all of|none of ["a", "b"]` with a
        list of string literals: one set operation on the common types."""
        if not all(isinstance(i, A.StringLiteral) for i in arg.items):
            return None
        words = frozenset(i.value for i in arg.items if isinstance(i, A.StringLiteral))
        k = self.const(words)
        t = self.fresh()
        subject, arg_t = self.guard_subject(node.subject, t)
        op = node.op
        if op is A.TestOp.IN:
            inline, cls = f"({t} in {k})", "_str"
        elif len(words) <= 4:
            # a few `in` tests on the list beat building a set (str == only matches str)
            parts = [f"({self.const(w)} in {t})" for w in sorted(words)]
            joined = " and " if op is A.TestOp.CONTAINS_ALL else " or "
            inline, cls = "(" + joined.join(parts) + ")", "_list"
        elif op is A.TestOp.CONTAINS_ALL:
            inline, cls = f"_all_strs({t}, {k})", "_list"
        else:
            inline, cls = f"_either_strs({t}, {k})", "_list"
        positive = want if op is not A.TestOp.CONTAINS_NONE else not want
        if not positive:
            inline = f"(not {inline})"
        slow = self.slow_test(
            helpers.TEST_HELPERS[op.value], arg_t, (self.value(arg), self.span(node)), want
        )
        return f"({inline} if ({t} := {subject}).__class__ is {cls} else {slow})"

    def count_compare(
        self, node: A.Comparison, count: A.Macro, op: A.CompareOp, k: str, *, want: bool
    ) -> str:
        """`count of X <op> N`: `len` of a list compared inline."""
        t = self.fresh()
        py = {A.CompareOp.LT: "<", A.CompareOp.LE: "<=", A.CompareOp.GT: ">",
              A.CompareOp.GE: ">="}[op]
        inverse = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[py]
        subject, arg_t = self.guard_subject(count.operand, t)
        inline = f"_len({t}) {py if want else inverse} {k}"
        resolver = self._resolvers.get(arg_t)
        if resolver is not None and k in self.ns:
            # the slow branch as a closure, as in `slow_test`
            _, mapping, resolve = resolver
            macro, compare = self.ns["_macro"], self.ns[self._COMPARE[op]]
            macro_op, count_span, bound, span = count.op.value, count.span, self.ns[k], node.span

            def slow_count(value: Any, m: Any) -> bool:
                if value is None:
                    value = resolve(m)
                return compare(macro(macro_op, value, count_span), bound, span) is want

            slow = f"{self.const(slow_count)}({t}, {mapping})"
        else:
            counted = f"_macro({self.const(count.op.value)}, {arg_t}, {self.span(count)})"
            slow = f"{self._COMPARE[op]}({counted}, {k}, {self.span(node)}) is {want!r}"
        return f"(({inline}) if ({t} := {subject}).__class__ is _list else {slow})"

    def compare_fast(self, node: A.Comparison, *, want: bool) -> str | None:
        if len(node.ops) != 1:
            return None
        left, right = node.operands
        op = node.ops[0]
        if isinstance(right, A.StringLiteral) and op in (A.CompareOp.EQ, A.CompareOp.NE):
            test = A.Test(A.TestOp.EQUAL, left, (right,), negated=op is A.CompareOp.NE,
                          span=node.span)
            return self.test_fast(test, want=want != test.negated)
        if not isinstance(right, A.IntegerLiteral):
            return None
        if op in (A.CompareOp.EQ, A.CompareOp.NE):
            test = A.Test(A.TestOp.EQUAL, left, (right,), negated=op is A.CompareOp.NE,
                          span=node.span)
            return self.test_fast(test, want=want != test.negated)
        k = self.const(right.value)
        t = self.fresh()
        if (isinstance(left, A.Macro) and left.op is A.MacroOp.COUNT
                and self.context_root(left.operand) != "cart"):
            return self.count_compare(node, left, op, k, want=want)
        py = {A.CompareOp.LT: "<", A.CompareOp.LE: "<=", A.CompareOp.GT: ">",
              A.CompareOp.GE: ">="}[op]
        inverse = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[py]
        subject, arg_t = self.guard_subject(left, t)
        inline = f"{t} {py} {k}" if want else f"{t} {inverse} {k}"
        slow = self.slow_test(self._COMPARE[op], arg_t, (k, self.span(node)), want)
        return f"(({inline}) if ({t} := {subject}).__class__ is _int else {slow})"


def _reads_link_parts(node: A.Criterion | A.CriteriaGroup) -> bool:
    """Whether link criteria name `path`, `query` or `anchor` (read from the link's URL)."""
    if isinstance(node, A.Criterion):
        return bool(node.path) and node.path[0].lower() in ("path", "query", "anchor")
    return any(_reads_link_parts(item) for item in node.items)
