"""The application: what runs the three stages for a user, on top of them.

- the daily job (``plan``, ``run``): data → forecast → plan → report, published as a revision:
  :mod:`rainmaker.app.pipeline` (one as-of day forecast, planned and reported in memory),
  :mod:`rainmaker.app.day_files` (its files written and published whole; ``rainmaker plan``),
  :mod:`rainmaker.app.job` (``rainmaker run``: revisions, rollback, reconcile, retention),
  :mod:`rainmaker.app.mlflow_tracking` (its log to MLflow), :mod:`rainmaker.app.wording` (the
  report's lines for the optimiser's explanations and broken constraints), and
  :mod:`rainmaker.app.daily`, which re-exports their public names;
- :mod:`rainmaker.app.config` — the daily job's settings file;
- :mod:`rainmaker.app.history` — the run history (database of published runs);
- :mod:`rainmaker.app.accuracy` — the recorded forecasts' realised accuracy and drift alerts;
- :mod:`rainmaker.app.outputs` — atomic publication of revisions and the run lock;
- :mod:`rainmaker.app.ops` — what operations watch: the job's checks and exit codes (stale
  data, late data, alerts), its JSON summary and notifiers, ``rainmaker status``;
- :mod:`rainmaker.app.logs` — log lines with local time, zone and level, or JSON;
- :mod:`rainmaker.app.progress` — the progress of long steps on stderr, with an ETA (the
  stages only count, through :mod:`rainmaker.progress`);
- :mod:`rainmaker.app.report` — the HTML report; :mod:`rainmaker.app.xlsx` — the workbook
  (:mod:`rainmaker.app.xlsx_columns`: its column labels, units and definitions);
- :mod:`rainmaker.app.api` — the same files for a plan made in Python (no job configuration).

It may import every stage (``forecast``, ``optimize``, ``simulate``) and the ground layer
(:mod:`rainmaker`); nothing below imports it (the import-linter contract in ``pyproject.toml``).
The command line, :mod:`rainmaker.cli`, is the only module above it.
"""
