"""Tests of the closed-loop replay, policies, scenarios and stress tests (simulate/)."""
