"""Accuracy of the market forecast (forecast/market.py) against the random walk on the real
Shibor, 2008-2022, horizons 1 to 30 days.

The real Shibor (``../shared/data/shibor.csv``, or ``--shibor FILE``: ``date`` and the
``shibor_*`` columns, percent p.a., published days) holds June 2013's squeeze, the 2016-2017
deleveraging, the 2020 collapse and every quarter end between. From an origin every
``--step`` days (default 5) between ``--start`` and ``--end`` the forecast of the next
``--horizon`` days is scored against the rate then published (carried forward over days
without publication): MAE of the median against the random walk's (today's rate held flat),
bp, the skill 1 − MAE / MAE(random walk) (> 0 beats it) and the share of outcomes within
[p10, p90] (80 % when calibrated), per tenor and horizon band, over all origins and over the
stressed quarters alone (June 2013 and Q4 2016). It has no benchmark yield column: that series
is scored by ``rainmaker evaluate-forecast`` on a data set's market.csv.

    .venv/bin/python benchmarks/market_forecast.py [--shibor FILE] [--start 2008-01-07]
        [--end 2022-06-30] [--step 5] [--horizon 30]

About 30 s for the default 1,000 origins (the forecast takes ~20 ms an origin). The figures are
in docs/forecast.md ("Market forecast").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast.market import market_score_table, score_market_forecast  # noqa: E402

SHIBOR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "shibor.csv"
SERIES = ("shibor_on", "shibor_1w", "shibor_2w", "shibor_1m", "shibor_3m")
STRESSED = (("2013-05-15", "2013-07-31"), ("2016-10-01", "2017-01-31"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shibor", type=Path, default=SHIBOR)
    parser.add_argument("--start", default="2008-01-07")
    parser.add_argument("--end", default="2022-06-30")
    parser.add_argument("--step", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=30)
    args = parser.parse_args()
    market = pd.read_csv(args.shibor)
    series = [s for s in SERIES if s in market.columns]
    origins = pd.date_range(args.start, args.end, freq=f"{args.step}D")
    began = time.perf_counter()
    score = score_market_forecast(market, origins, args.horizon, series=series)
    seconds = time.perf_counter() - began
    print(f"{len(origins)} origins {origins[0]:%Y-%m-%d}..{origins[-1]:%Y-%m-%d}, {seconds:.0f} s")
    print(market_score_table(score))
    stressed = [o for o in origins if any(lo <= f"{o:%Y-%m-%d}" <= hi for lo, hi in STRESSED)]
    if stressed:
        print(f"\nstressed quarters only (June 2013, Q4 2016): {len(stressed)} origins")
        print(
            market_score_table(score_market_forecast(market, stressed, args.horizon, series=series))
        )


if __name__ == "__main__":
    main()
