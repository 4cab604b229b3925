"""Tests of the optimizer (optimize/)."""
