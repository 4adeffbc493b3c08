"""Numerical work on ledger data (return windows, and later correlations)."""
