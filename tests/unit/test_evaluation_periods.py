"""An evaluation read back from the ledger reports its periods in the order it computed them."""

from axiom.evaluation import ordered


def test_periods_read_back_in_the_order_reported():
    """The ledger's JSONB orders an object's keys by length, then bytes: the periods keep their order in a list."""
    stored = {"periods": {"2005-2014": {"n": 1}, "2005-2022": {"n": 2}, "2015-2022": {"n": 3}},
              "order": ["2005-2022", "2005-2014", "2015-2022"]}  # fmt: skip
    assert [name for name, _ in ordered(stored)] == ["2005-2022", "2005-2014", "2015-2022"]
    assert [r["n"] for _, r in ordered(stored)] == [2, 1, 3]
    assert [name for name, _ in ordered({"periods": {"a": {}, "b": {}}})] == ["a", "b"]  # kept before the order was
