"""Answers to the questions Axiom exists for, read point in time from all four stores.

* ``buy``: is X a buy? (``axiom.insights.buy``)
* ``rotation``: which sectors are rotating into strength? (``axiom.insights.rotation``)
* ``cascade``: the risk cascade after a Fed decision (``axiom.insights.cascade``)
* ``like``: stocks like X (``axiom.insights.like``)

Every answer stands on an as-of session (default: the ledger's newest) and reads nothing dated
after it; every store read is timed and kept as evidence; the analyst (Claude or the documented
rules) judges the facts. Answers are kept in the ledger (``insight``) and Redis (``insight:{hash}``)
under a hash of the question, so asking again is a cache hit that says so.
"""
