"""Whether RE2 (linear-time matching) can run a regex literal, with its flags."""

from __future__ import annotations

from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the problem goes into a diagnostic, not onto stderr


@lru_cache(maxsize=512)
def regex_problem(pattern: str, flags: str = "") -> str | None:
    """None if RE2 compiles `~/pattern/flags`, else RE2's explanation.

    The flags `i`, `m`, `s` are RE2's inline flags of the same names, so they are checked as
    a `(?ims)` prefix, the way the compiler runs them.
    """
    inline = "".join(f for f in "ims" if f in flags)
    source = f"(?{inline}){pattern}" if inline else pattern
    try:
        re2.compile(source, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return str(reason)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None
