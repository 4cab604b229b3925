"""The proof: a synthetic market and product panel, the portfolio model of one product rolled day
by day, and the closed-loop replay that measures what a policy does to yield volatility.

- :mod:`simulate.portfolio` — a product's asset lots, income, fees, redemptions and shortfall;
- :mod:`simulate.synthetic` — the seeded generator of ``data/sample`` (the demand response to
  exposure it draws with is :mod:`rainmaker.response`, shared with forecast and optimize);
- :mod:`simulate.replay` — the day-by-day closed loop; :mod:`simulate.policies` (``none``, ``rule``)
  and :mod:`simulate.planning_policies` (``optimizer``, ``oracle``) decide each day;
- :mod:`simulate.scenarios` — stressed copies of a data set (a redemption run, a rate shock,
  holders leaving) for the panel of windows;
- :mod:`simulate.backtest_metrics`, :mod:`simulate.plots` and :mod:`simulate.backtest` — the SPEC §4
  figures, charts and the files ``rainmaker backtest`` writes.
"""
