"""Tests of the application (rainmaker/app/: the daily job, report, workbook, history, ops,
API)."""
