"""Tests of the forecast stage (forecast/)."""
