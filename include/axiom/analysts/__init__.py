"""The analyst: judgement behind one interface (Claude when a key is set, rules otherwise)."""
