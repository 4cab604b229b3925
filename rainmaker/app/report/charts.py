"""Charts of the daily plan report, drawn with matplotlib's SVG backend as inline SVG text.

Three figures at the report's width, and one set of small multiples the reader can expand:

- :func:`aum_fan_chart`: AUM history and the forecast fan (outer and inner quantile bands,
  median) with the plan's expected AUM; one wide panel for the portfolio, and the same chart
  as a grid of small multiples per product (the report puts that one in a collapsed section);
- :func:`yield_chart`: 7-day annualised yield (percent) in one panel: the portfolio's
  AUM-weighted history and plan, each product's plan as a thin line, the market benchmark;
- :func:`quota_chart`: the quota schedule, capped products by capped days (products and days
  without a cap take no space), coloured by the share of forecast demand the quota lets in.

Text is at least ``MIN_TEXT_PX`` pixels high when a chart is drawn at the report's content
width (``REPORT_WIDTH_PX``): font sizes are in points of the figure, which the page scales to
that width, so each figure's width in inches bounds its smallest legible font
(:func:`min_text_px` measures it, and the tests hold every chart to it).

Text is kept as SVG text (``svg.fonttype = none``) so the browser draws it with the reader's
fonts, Chinese included, and the file stays small; no external font or script is referenced.
Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), and each SVG gets its
own id salt so that several of them can live in one HTML page without clashing clip-path ids.
Product ids are drawn literally (:func:`rainmaker.safety.chart_text`): an id such as ``$x^2$`` is
not typeset as math.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.safety import chart_text

__all__ = [
    "MIN_TEXT_PX",
    "REPORT_WIDTH_PX",
    "ChartLabels",
    "aum_fan_chart",
    "min_text_px",
    "quota_chart",
    "yield_chart",
]

HISTORY_DAYS = 45  # days of history drawn before the forecast, enough to see the weekly cycle
PANEL_COLUMNS = 4
PANEL_SIZE_IN = (3.0, 2.1)  # one small multiple (inches)
WIDE_SIZE_IN = (11.0, 3.6)  # a chart that has the report's width to itself (inches)
# The report's content width (the page's 1240 px less its padding) and the smallest text a chart
# may show at that width.
REPORT_WIDTH_PX = 1184
MIN_TEXT_PX = 11.0
# Font sizes in points of the figure: with figures at most 12 in wide (864 pt shown on 1184 px,
# ×1.37) 9 pt is drawn at 12.3 px.
TICK_PT = 9.0
TITLE_PT = 10.0
LEGEND_PT = 9.5
LABEL_PT = 10.0
CELL_PT = 9.0
FONT_FAMILIES = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "DejaVu Sans",
]
COLOURS = {
    "history": "#5f6b7a",
    "fan": "#1f77b4",
    "plan": "#d62728",
    "benchmark": "#2ca02c",
    "open": "#d4e4f4",
    "closed": "#3b0a0a",
}


@dataclass(frozen=True)
class ChartLabels:
    """The words drawn inside the charts, in the report's language.

    Attributes:
        history, median, inner_band, outer_band, plan, benchmark, yield_7d, portfolio, open,
        closed: legend and panel texts.
        amount_unit: unit of the amounts on the AUM axes, e.g. ``亿元`` or ``CNY bn``.
        admitted: colour-bar title of the quota chart (share of demand let in).
        each_product: what the yield chart's thin lines are (each product's plan).
    """

    history: str
    median: str
    inner_band: str
    outer_band: str
    plan: str
    benchmark: str
    yield_7d: str
    portfolio: str
    open: str
    closed: str
    amount_unit: str
    admitted: str
    each_product: str = ""


def aum_fan_chart(
    history: pd.DataFrame,
    bands: Mapping[str, pd.DataFrame],
    planned: Mapping[str, pd.Series],
    labels: ChartLabels,
    *,
    divisor: float,
    band_columns: tuple[str, str, str, str],
    salt: str,
) -> str:
    """AUM history and forecast fan, one panel per key of ``bands`` (portfolio first).

    Args:
        history: AUM history, index date, one column per panel key (CNY).
        bands: per panel, the forecast frame indexed by date with ``p50`` and the band columns
            (CNY).
        planned: per panel, the plan's expected AUM indexed by date (CNY); may miss keys.
        labels: texts.
        divisor: amounts are divided by this for display (e.g. 1e8 for 亿元).
        band_columns: (outer low, inner low, inner high, outer high) quantile column names.
        salt: unique text making the SVG's ids unique in the page.

    One key gives one wide panel (the portfolio); several give a grid of small multiples.

    Returns:
        The SVG document as text (no XML prolog).
    """
    keys = list(bands)
    fig, axes = _grid(len(keys)) if len(keys) > 1 else _wide()
    outer_lo, inner_lo, inner_hi, outer_hi = band_columns
    for ax, key in zip(axes, keys, strict=False):
        band = bands[key] / divisor
        past = history[key].dropna().iloc[-HISTORY_DAYS:] / divisor if key in history else None
        if past is not None and not past.empty:
            ax.plot(past.index, past.to_numpy(), color=COLOURS["history"], lw=1.0)
            ax.axvline(past.index[-1], color="#999999", lw=0.6, ls=":")
        x = band.index
        if outer_lo in band and outer_hi in band:
            ax.fill_between(
                x, band[outer_lo], band[outer_hi], color=COLOURS["fan"], alpha=0.18, lw=0
            )
        if inner_lo in band and inner_hi in band:
            ax.fill_between(
                x, band[inner_lo], band[inner_hi], color=COLOURS["fan"], alpha=0.35, lw=0
            )
        ax.plot(x, band["p50"].to_numpy(), color=COLOURS["fan"], lw=1.3)
        if key in planned:
            plan = planned[key] / divisor
            ax.plot(plan.index, plan.to_numpy(), color=COLOURS["plan"], lw=1.1, ls="--")
        if len(keys) > 1:
            ax.set_title(chart_text(key), fontsize=TITLE_PT, loc="left")
        _date_axis(ax)
    legend = [
        ("line", COLOURS["history"], labels.history),
        ("line", COLOURS["fan"], labels.median),
        ("band", COLOURS["fan"], labels.inner_band, 0.35),
        ("band", COLOURS["fan"], labels.outer_band, 0.18),
        ("dash", COLOURS["plan"], labels.plan),
    ]
    return _grid_svg(fig, legend, labels.amount_unit, salt)


def yield_chart(
    history: pd.Series,
    planned: pd.Series,
    products: pd.DataFrame,
    benchmark: pd.Series,
    labels: ChartLabels,
    *,
    horizon_end: pd.Timestamp,
    salt: str,
) -> str:
    """7-day annualised yield (percent) in one panel.

    Args:
        history: the portfolio's published 7-day yield, AUM-weighted, index date (percent); may
            be empty when the data set has no ``yield_7d``.
        planned: the plan's portfolio 7-day yield, AUM-weighted, index date (percent).
        products: each product's planned 7-day yield, index date, one column per product
            (percent), drawn as thin lines behind the portfolio's.
        benchmark: market benchmark 7-day yield up to the as-of day, index date (percent); its
            last value is carried over the plan horizon (dashed), as the plan assumes no view on
            the market.
        labels: texts.
        horizon_end: last day of the plan.
        salt: unique text making the SVG's ids unique in the page.

    Returns:
        The SVG document as text.
    """
    fig, axes = _wide()
    ax = axes[0]
    bench = benchmark.dropna().iloc[-HISTORY_DAYS:]
    for product in products.columns:
        line = products[product].dropna()
        ax.plot(line.index, line.to_numpy(), color=COLOURS["plan"], lw=0.6, alpha=0.3)
    if not bench.empty:
        ax.plot(bench.index, bench.to_numpy(), color=COLOURS["benchmark"], lw=1.3)
        ax.plot(
            [bench.index[-1], horizon_end],
            [bench.iloc[-1], bench.iloc[-1]],
            color=COLOURS["benchmark"],
            lw=1.3,
            ls="--",
        )
    past = history.dropna().iloc[-HISTORY_DAYS:]
    if not past.empty:
        ax.plot(past.index, past.to_numpy(), color=COLOURS["history"], lw=1.4)
    future = planned.dropna()
    ax.plot(future.index, future.to_numpy(), color=COLOURS["plan"], lw=1.8)
    _date_axis(ax)
    legend = [
        ("line", COLOURS["history"], labels.history),
        ("line", COLOURS["plan"], f"{labels.plan} ({labels.portfolio})"),
        ("thin", COLOURS["plan"], f"{labels.plan} ({labels.each_product})"),
        ("line", COLOURS["benchmark"], labels.benchmark),
    ]
    return _grid_svg(fig, legend, labels.yield_7d, salt)


def quota_chart(
    quota: pd.DataFrame,
    demand: pd.DataFrame,
    holidays: Sequence[pd.Timestamp],
    labels: ChartLabels,
    *,
    salt: str,
) -> str:
    """The quota schedule: products (rows) by days (columns).

    A cell is pale blue when subscriptions are open without a cap, dark when closed (quota 0),
    and otherwise shaded by the share of the forecast demand the quota lets in, written in the
    cell in percent. Public holidays are marked under the day axis.

    Args:
        quota: index date, one column per product; NaN = no cap (CNY).
        demand: forecast mean subscription demand, same shape (CNY).
        holidays: public holidays in the horizon.
        labels: texts.
        salt: unique text making the SVG's ids unique in the page.

    Products and days without any cap are left out (they would only say "open"); with no cap
    at all the chart is empty ("").

    Returns:
        The SVG document as text, or "" when nothing is capped.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    capped = quota.notna()
    quota = quota.loc[capped.any(axis=1), capped.any(axis=0)]
    if quota.empty:
        return ""
    _style()
    products = list(quota.columns)
    days = list(quota.index)
    values = quota.to_numpy(dtype=float).T  # products × days
    wanted = demand.reindex(index=quota.index, columns=products).to_numpy(dtype=float).T
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(np.where(wanted > 0, values / wanted, 1.0), 0.0, 1.0)
    cmap = colormaps["OrRd_r"]
    rgba = np.empty((*values.shape, 4))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if math.isnan(values[i, j]):
                rgba[i, j] = _rgba(COLOURS["open"])
            elif values[i, j] <= 0:
                rgba[i, j] = _rgba(COLOURS["closed"])
            else:
                rgba[i, j] = cmap(0.25 + 0.75 * share[i, j])
    width = min(12.0, max(7.0, 0.62 * len(days) + 2.0))
    height = max(2.0, 0.36 * len(products) + 1.4)
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=0.8 / width, right=1 - 0.15 / width, top=1 - 0.45 / height, bottom=0.6 / height
    )
    ax = fig.add_subplot()
    ax.grid(False)
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if math.isnan(values[i, j]):
                continue
            text = labels.closed if values[i, j] <= 0 else f"{share[i, j] * 100:.0f}%"
            dark = values[i, j] <= 0 or share[i, j] < 0.45
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=CELL_PT,
                color="white" if dark else "black",
            )
    ax.set_yticks(range(len(products)), [chart_text(p) for p in products], fontsize=TICK_PT)
    holiday_days = {pd.Timestamp(d).normalize() for d in holidays}
    ax.set_xticks(
        range(len(days)), [f"{pd.Timestamp(d):%m-%d}" for d in days], fontsize=TICK_PT, rotation=90
    )
    for tick, day in zip(ax.get_xticklabels(), days, strict=True):
        if pd.Timestamp(day).normalize() in holiday_days:
            tick.set_color(COLOURS["plan"])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [
        Patch(color=COLOURS["open"], label=labels.open),
        Patch(color=cmap(0.25), label=f"{labels.admitted} 0%"),
        Patch(color=cmap(0.625), label=f"{labels.admitted} 50%"),
        Patch(color=cmap(1.0), label=f"{labels.admitted} 100%"),
        Patch(color=COLOURS["closed"], label=labels.closed),
    ]
    fig.legend(handles=handles, loc="upper center", ncol=5, fontsize=LEGEND_PT, frameon=False)
    return _svg(fig, salt)


# ---------------------------------------------------------------------- helpers


def _style() -> None:
    import matplotlib

    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.family": ["sans-serif"],
            "font.sans-serif": FONT_FAMILIES,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#e6e6e6",
            "grid.linewidth": 0.6,
            "xtick.labelsize": TICK_PT,
            "ytick.labelsize": TICK_PT,
        }
    )


def _grid(n_panels: int) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    _style()
    columns = min(PANEL_COLUMNS, max(1, n_panels))
    rows = max(1, math.ceil(n_panels / columns))
    width, height = PANEL_SIZE_IN[0] * columns, PANEL_SIZE_IN[1] * rows + 0.5
    fig = Figure(figsize=(width, height))
    # fixed margins in inches (room for the legend on top and the y label on the left):
    # matplotlib's constrained layout would take a second per figure to find the same
    fig.subplots_adjust(
        left=0.75 / width,
        right=1 - 0.15 / width,
        top=1 - 0.6 / height,
        bottom=0.35 / height,
        wspace=0.28,
        hspace=0.5,
    )
    grid = fig.subplots(rows, columns, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _wide() -> tuple[Any, list[Any]]:
    """One panel at the report's width (room for the legend on top, the y label left)."""
    from matplotlib.figure import Figure

    _style()
    width, height = WIDE_SIZE_IN
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=0.85 / width, right=1 - 0.2 / width, top=1 - 0.55 / height, bottom=0.45 / height
    )
    return fig, [fig.add_subplot()]


def _date_axis(ax: Any) -> None:
    from matplotlib.dates import AutoDateLocator, DateFormatter

    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=4))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    ax.margins(x=0.01)


def _legend_handles(items: Sequence[tuple]) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for kind, colour, label, *alpha in items:
        if kind == "band":
            handles.append(Patch(color=colour, alpha=alpha[0], label=label))
        else:
            style = "--" if kind == "dash" else "-"
            width, alpha = (0.8, 0.4) if kind == "thin" else (1.3, 1.0)
            handles.append(
                Line2D([], [], color=colour, ls=style, lw=width, alpha=alpha, label=label)
            )
    return handles


def _rgba(colour: str) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour)


def _grid_svg(fig: Any, legend: Sequence[tuple], ylabel: str, salt: str) -> str:
    """A grid of small charts finished: one legend across the top (an entry a column), the
    shared y label on the left, as SVG."""
    handles = _legend_handles(legend)
    fig.legend(
        handles=handles, loc="upper center", ncol=len(handles), fontsize=LEGEND_PT, frameon=False
    )
    fig.supylabel(ylabel, fontsize=LABEL_PT, x=0.1 / fig.get_figwidth())
    return _svg(fig, salt)


def _svg(fig: Any, salt: str) -> str:
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}), warnings.catch_warnings():
        # without a CJK font installed matplotlib warns about glyphs it cannot measure; the
        # browser draws the text with the reader's fonts anyway
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    # matplotlib numbers its element ids per figure (figure_1, axes_1...): prefix them, and
    # every reference to them, so that several charts in one page keep ids unique
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", salt)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    # let the page size the chart: keep the aspect ratio (viewBox), drop the fixed size
    return re.sub(
        r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
        r'<svg\1 class="chart-svg" preserveAspectRatio="xMidYMid meet"',
        text,
        count=1,
    )


def min_text_px(svg: str, width_px: float = REPORT_WIDTH_PX) -> float:
    """The smallest text of an SVG chart in pixels when the page draws it ``width_px`` wide
    (its font sizes are in the units of its viewBox); inf for a chart without text."""
    box = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"', svg)
    if box is None:
        raise ValueError("the chart has no viewBox")
    sizes = [float(v) for v in re.findall(r"font(?:-size)?:[^;\"]*?([\d.]+)px", svg)]
    if not sizes:
        return math.inf
    return min(sizes) * width_px / float(box.group(1))
