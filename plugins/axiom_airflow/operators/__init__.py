"""Operators that run Axiom's pipeline steps."""
