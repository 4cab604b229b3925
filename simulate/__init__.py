"""The proof: a synthetic market and product panel, the portfolio model of one product rolled day
by day, and the closed-loop replay that measures what a policy does to yield volatility.

- :mod:`simulate.portfolio` — a product's asset lots, income, fees, redemptions and shortfall;
- :mod:`simulate.response` — the concave demand response to marketing exposure;
- :mod:`simulate.synthetic` — the seeded generator of ``data/sample``;
- :mod:`simulate.replay` and :mod:`simulate.policies` — the backtest.
"""
