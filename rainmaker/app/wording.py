"""What the report says of the optimiser's explanations and broken constraints, in its language.

:func:`explanation_texts` turns whatever the optimiser explains with (text, a list, a frame)
into lines; :func:`violation_texts` gives one line per broken constraint and product, in
Chinese (``reason_zh``) or English (``reason``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = [
    "explanation_texts",
    "violation_texts",
]


def explanation_texts(value: Any) -> list[str]:
    """Plain-language lines from the optimiser's explanations or violations.

    Accepts a list of strings, an object with a ``text`` attribute (string or list), or a
    frame with a ``text`` (or ``message``) column; other frames are described row by row.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, pd.DataFrame):
        if value.empty:
            return []
        for column in ("text", "message", "explanation"):
            if column in value.columns:
                return [str(v) for v in value[column] if isinstance(v, str) and v.strip()]
        return ["; ".join(f"{k}={v}" for k, v in row.items()) for row in value.to_dict("records")]
    text = getattr(value, "text", None)
    if text is not None and not callable(text):
        return explanation_texts(text)
    if isinstance(value, Sequence):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)]


def violation_texts(violations: Any, lang: str = "en") -> list[str]:
    """One line per broken constraint and product, from the optimiser's violations frame, in the
    report's language (the frame's ``reason_zh`` for ``zh``, ``reason`` for ``en``).

    A constraint broken on many days is one line (``P01: <reason> (3 days from 2022-06-17)``,
    ``P01：<原因>（自 2022-06-17 起 3 天）``) rather than one per day, so that the report's alerts
    stay readable.
    """
    if not isinstance(violations, pd.DataFrame) or "reason" not in violations.columns:
        return explanation_texts(violations)
    if violations.empty:
        return []
    keys = [c for c in ("constraint", "product_id") if c in violations.columns]
    lines = []
    for _, rows in violations.groupby(keys, sort=False) if keys else [((), violations)]:
        first = rows.iloc[0]
        product = f"{first['product_id']}: " if "product_id" in rows.columns else ""
        when = ""
        if lang == "zh":
            product = f"{first['product_id']}：" if "product_id" in rows.columns else ""
            if "date" in rows.columns:
                when = f"（自 {pd.Timestamp(rows['date'].min()):%Y-%m-%d} 起 {len(rows)} 天）"
            reason = first["reason_zh"] if "reason_zh" in rows.columns else first["constraint"]
            lines.append(f"{product}{reason}{when}")
            continue
        if "date" in rows.columns:
            when = f" ({len(rows)} day{'s' if len(rows) > 1 else ''} from "
            when += f"{pd.Timestamp(rows['date'].min()):%Y-%m-%d})"
        lines.append(f"{product}{first['reason']}{when}")
    return lines
