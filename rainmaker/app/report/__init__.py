"""The daily plan report: one self-contained HTML file with inline SVG charts, in zh or en.

:func:`render_report` turns :class:`ReportInputs` (plain frames) into a :class:`RenderedReport`;
:mod:`rainmaker.app.report.charts` draws the charts and :mod:`rainmaker.app.report.i18n` holds
the words.
"""

from rainmaker.app.report.render import RenderedReport, ReportInputs, render_report

__all__ = ["RenderedReport", "ReportInputs", "render_report"]
