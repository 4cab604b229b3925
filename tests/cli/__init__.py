"""Tests of the command line end to end (rainmaker/cli.py, real processes and the real stages)."""
