"""Sentences that conclude something, rendered from stored results: one module per notebook (system, concepts,
cloud_edge, usecases, analysis), and here what they share. A sentence that compares two numbers says whether their
difference exceeds its uncertainty (the interval the experiment stored); names from params are escaped once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from edgecloud.results.tables import ms as ms  # one millisecond format, shared with decisions
from edgecloud.timing import Estimate

T = TypeVar("T")
NEGLIGIBLE = 0.01  # an overhead under 1% of what it rides on is negligible


def escape(text: str) -> str:
    """Markdown that can show any user-given name as text: <, > and & never become HTML (sentences use none)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped(fn: Callable[..., T]) -> Callable[..., T]:
    """A verdict whose sentence (alone or first of a tuple) is escaped: names from params are shown, never run."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> T:
        out = fn(*args, **kwargs)
        return (escape(out[0]), *out[1:]) if isinstance(out, tuple) else escape(out)

    return wrapper


def compare_p50(a_label: str, b_label: str, d: Estimate, unit: str = "ms") -> str:
    """'a is faster than b by …', the reverse, or 'no difference beyond noise', from the CI of p50(a) − p50(b)."""
    if d.high < 0:
        return f"{a_label} is faster than {b_label} by {-d.value:.3g} {unit} (CI {-d.high:.3g} to {-d.low:.3g})"
    if d.low > 0:
        return f"{b_label} is faster than {a_label} by {d.value:.3g} {unit} (CI {d.low:.3g} to {d.high:.3g})"
    return f"{a_label} and {b_label} do not differ beyond noise ({d.low:+.3g} to {d.high:+.3g} {unit})"
