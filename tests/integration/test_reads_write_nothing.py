"""Reads write nothing: a search or a similarity read of a Chroma that holds no collection creates none."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from axiom import search
from axiom.stores import vectors


def test_reads_of_an_empty_chroma_create_no_collection(clean_stores, chroma_client):
    assert chroma_client.list_collections() == []
    assert search.search(chroma_client, "rate hike", k=5) == []
    assert search.search(chroma_client, "rate hike", kinds=[vectors.MARKET_EVENTS], where={"symbol": "AAPL"}) == []
    assert search.similar_sector_profiles(chroma_client, np.zeros(11), date(2020, 1, 31), k=3) == []
    with pytest.raises(LookupError, match="no company description"):
        search.similar_companies(chroma_client, "AAPL")
    assert chroma_client.list_collections() == []


def test_a_read_finds_a_collection_made_after_it_looked(clean_stores, chroma_client):
    assert search.search(chroma_client, "chips", kinds=[vectors.COMPANIES]) == []
    collection = vectors.companies(chroma_client)  # a writer makes it
    collection.upsert(ids=["company:NVDA"], documents=["graphics chips"], metadatas=[{"symbol": "NVDA"}])
    [hit] = search.search(chroma_client, "chips", kinds=[vectors.COMPANIES])
    assert hit.id == "company:NVDA"
