"""Every diagnostic code segmentql emits, in one table.

Ranges: Q1xx syntax and limits (parser), Q2xx names and types (checker), Q3xx run time
(evaluator). Codes are stable: never renumber, only add. `docs/errors.md` has one entry per
code with a bad query and its fix, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentql.diagnostics import Severity


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    title: str
    severity: Severity


def _e(code: str, title: str) -> CodeInfo:
    return CodeInfo(code, title, Severity.ERROR)


def _w(code: str, title: str) -> CodeInfo:
    return CodeInfo(code, title, Severity.WARNING)


def _i(code: str, title: str) -> CodeInfo:
    return CodeInfo(code, title, Severity.INFO)


_ALL: tuple[CodeInfo, ...] = (
    # --- Q1xx: syntax and limits -------------------------------------------------------
    _e("Q100", "unexpected character"),
    _e("Q101", "unexpected token"),
    _e("Q102", "unexpected end of query"),
    _e("Q103", "unterminated string literal"),
    _e("Q104", "invalid escape sequence in string"),
    _e("Q105", "invalid regular-expression literal or flag"),
    _e("Q106", "'is' takes a literal here; use 'is equal to' to compare with an expression"),
    _e("Q107", "comparison chain longer than two operators"),
    _e("Q108", "integer literal out of 64-bit range"),
    _e("Q109", "decimal literal has more than 28 significant digits"),
    _e("Q110", "unknown duration unit"),
    _e("Q111", "unclosed bracket or parenthesis"),
    _e("Q112", "unbalanced closing bracket or parenthesis"),
    _e("Q113", "empty query"),
    _e("Q114", "missing value after operator"),
    _e("Q115", "unterminated block comment"),
    _e("Q116", "invalid event expression"),
    _e("Q117", "invalid quantifier"),
    _e("Q118", "invalid 'let' declaration"),
    _e("Q119", "invalid modifier"),
    _e("Q120", "unknown case style, rounding mode, type or unit name"),
    _e("Q121", "reserved word used as a name"),
    _e("Q122", "duplicate parameter name"),
    _e("Q123", "float literal out of range"),
    _e("Q124", "'in' without 'is' before a list or value"),
    _e("Q125", "a test's wording inside event criteria"),
    _e("Q126", "typographic quote instead of a straight quote"),
    _e("Q150", "query longer than the length limit"),
    _e("Q151", "query nested deeper than the depth limit"),
    # --- Q2xx: names, types, schema ------------------------------------------------------
    _e("Q200", "unknown variable"),
    _e("Q201", "unknown attribute"),
    _w("Q202", "unknown attribute read as custom, close to a standard one"),
    _w("Q203", "deprecated attribute"),
    _e("Q204", "operator not defined for the operand types"),
    _e("Q205", "test not defined for the operand types"),
    _w("Q206", "literal can never match"),
    _w("Q207", "value outside the attribute's allowed values"),
    _e("Q208", "query result is not boolean"),
    _e("Q209", "wrong number of arguments"),
    _e("Q210", "not a function"),
    _e("Q211", "regular expression RE2 cannot run"),
    _e("Q212", "invalid cast"),
    _w("Q213", "impossible range"),
    _e("Q214", "range longer than 30 items or of an unsupported type"),
    _e("Q215", "attribute access on a value that has no attributes"),
    _e("Q216", "'user is ...' or 'session is ...' test on another subject"),
    _e("Q217", "event criterion not defined for the event"),
    _e("Q218", "invalid string that should be a date, time or datetime"),
    _w("Q219", "name shadows another name"),
    _w("Q220", "unused 'let' declaration"),
    _e("Q221", "not a collection"),
    _i("Q222", "comparison with null is always false; use 'is null' or 'is defined'"),
    _e("Q223", "condition is not boolean"),
    _e("Q224", "fractional amount of a calendar duration unit"),
    # Q225-Q234: check-time cost estimate (issue #12)
    _w("Q225", "worst-case evaluation steps exceed the step budget"),
    _w("Q226", "worst-case size of a built value exceeds the size budget"),
    _w("Q227", "cost cannot be bounded statically (recursion)"),
    # --- Q3xx: run time (error values) -----------------------------------------------------
    _e("Q300", "evaluation error"),
    _e("Q301", "type mismatch"),
    _e("Q302", "division by zero"),
    _e("Q303", "conversion not possible"),
    _e("Q304", "range too long"),
    _e("Q305", "value out of range"),
    _e("Q306", "minimum/maximum/average of an empty collection"),
    _e("Q307", "incomparable values"),
    _e("Q308", "missing function argument"),
    _e("Q309", "host function failed"),
    _e("Q310", "invalid date, time or duration"),
    _e("Q311", "index out of range or invalid key"),
    # Q312-Q329: request-time safety (issue #12)
    _e("Q312", "evaluation step budget exhausted"),
    _e("Q313", "value larger than the size budget"),
    _e("Q314", "arrow-function calls nested deeper than the depth budget"),
    _e("Q315", "an operation failed on unusual data"),
    # --- Q400-Q449: compiling to SQL (segmentql.sql) ---------------------------------------
    _e("Q400", "construct not compiled to SQL"),
    _e("Q401", "not faithful in this SQL dialect"),
    _e("Q402", "variable not in the profile layout"),
    _e("Q403", "events read outside an event expression"),
    _e("Q404", "derived attribute or date part in SQL"),
    _e("Q405", "operand must be a constant in SQL"),
    _e("Q406", "comparison mode not compiled to SQL"),
    _e("Q407", "number not exact in SQL"),
    _e("Q408", "constant kind not compared in SQL"),
    _e("Q409", "event expression form not compiled to SQL"),
)

CODES: dict[str, CodeInfo] = {info.code: info for info in _ALL}


def title(code: str) -> str:
    return CODES[code].title


def severity(code: str) -> Severity:
    return CODES[code].severity
