"""An answer's reads: begun reads overlap, keep the order they began in, and are all over once it settles."""

from __future__ import annotations

import os
import threading
import time

import pytest

from axiom.insights.answer import Recorder


def test_begun_reads_overlap_and_their_evidence_keeps_the_order_they_began_in():
    rec = Recorder()
    both = threading.Barrier(2, timeout=5)  # each read waits for the other: only reads that overlap both return

    def read(value):
        both.wait()
        return value

    first = rec.begin("neo4j", "first", "MATCH (n) RETURN n", {}, lambda: read(1))
    second = rec.begin("chroma", "second", "query", {}, lambda: read(2), lambda v: {"got": v})
    third = rec.read("postgres", "third", "SELECT 1", {}, lambda: 3)
    assert (first.result(), second.result(), third) == (1, 2, 3)
    assert [e.what for e in rec.evidence] == ["first", "second", "third"]
    assert rec.evidence[1].facts == {"got": 2} and all(e.latency_ms >= 0 for e in rec.evidence)


def test_settling_waits_for_every_begun_read_after_one_fails():
    rec = Recorder()
    finished = threading.Event()

    def slow():
        time.sleep(0.2)
        finished.set()
        return "late"

    def broken():
        raise LookupError("no such record")

    rec.begin("neo4j", "slow", "MATCH (n) RETURN n", {}, slow)
    failing = rec.begin("chroma", "broken", "query", {}, broken)
    with pytest.raises(LookupError, match="no such record"):
        failing.result()
    rec.settle()
    assert finished.is_set() and rec.evidence[0].facts == "late"
    assert rec.evidence[1] is None  # a read that raised leaves no evidence


def test_a_process_forked_after_an_answer_begins_reads_of_its_own():
    Recorder().begin("redis", "parent", "GET k", {}, lambda: 1).result()  # the pool now holds an idle thread
    time.sleep(0.05)
    pid = os.fork()
    if pid == 0:  # the child (its pool's threads did not survive the fork) never returns into pytest
        ok = False
        try:
            ok = Recorder().begin("redis", "child", "GET k", {}, lambda: 2).result(timeout=5) == 2
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
