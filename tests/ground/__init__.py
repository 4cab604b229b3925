"""Tests of the ground layer (rainmaker/*.py: the data contract, calendar, yields, quantiles,
settings loader, ...)."""
