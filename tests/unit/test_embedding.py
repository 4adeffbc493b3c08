"""The ONNX Runtime embedder gives sentence-transformers' all-MiniLM-L6-v2 vectors, to 1e-4 per component.

The reference vectors (``embedding_reference.json``) were computed by sentence-transformers on torch, the
way Axiom embedded text before (``embedding_reference.py`` made them).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from axiom import embedding
from axiom.stores import vectors

REFERENCE = json.loads((Path(__file__).parent / "embedding_reference.json").read_text())
TEXTS: list[str] = REFERENCE["texts"]
WANT = np.frombuffer(base64.b64decode(REFERENCE["vectors_float32_base64"]), dtype="<f4").reshape(len(TEXTS), -1)


@pytest.fixture(scope="module")
def embedder() -> embedding.Embedder:
    return embedding.embedder()


def worst(got: np.ndarray) -> tuple[float, str]:
    off = np.abs(got - WANT).max(axis=1)
    return float(off.max()), TEXTS[int(off.argmax())][:80]


def test_vectors_equal_sentence_transformers(embedder):
    got = embedder.encode(TEXTS)
    assert got.shape == WANT.shape == (len(TEXTS), 384)
    assert got.dtype == np.float32
    off, text = worst(got)
    assert off < 1e-4, f"{off:.2e} on {text!r}"


def test_the_reference_covers_what_it_claims(embedder):
    from tokenizers import Tokenizer

    untruncated = Tokenizer.from_file(str(embedding.model_dir() / "tokenizer.json"))
    untruncated.no_truncation()
    untruncated.no_padding()
    full = [len(e.ids) for e in untruncated.encode_batch(TEXTS)]
    used = [len(ids) for ids in embedder.token_ids(TEXTS)]
    assert embedder.max_tokens == 256
    assert max(used) == 256 and sum(n > 256 for n in full) >= 10 and max(full) > 512  # truncation, past BERT's 512
    assert sum(128 < n <= 256 for n in full) >= 3  # the package's tokenizer.json alone would cut these at 128
    assert "" in TEXTS and " " in TEXTS and min(used) == 2  # [CLS] [SEP] only
    assert (
        any("\U0001f680" in t for t in TEXTS) and any("日本語" in t for t in TEXTS) and any("def " in t for t in TEXTS)
    )
    assert len(TEXTS) >= 250


def test_batching_changes_no_vector(embedder):
    """Each text alone, all at once, or in tiny batches: the same vectors (padding is masked out)."""
    picks = list(range(0, len(TEXTS), 9))
    chosen = [TEXTS[i] for i in picks]
    together = embedder.encode(chosen)
    alone = np.stack([embedder.encode([t])[0] for t in chosen])
    tiny = embedder.encode(chosen, token_budget=64)  # longer texts than the budget go one per batch
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(tiny, alone, atol=1e-5)
    np.testing.assert_allclose(together, WANT[picks], atol=1e-4)
    assert embedder.encode([]).shape == (0, 384)


def test_batches_respect_the_token_budget():
    lengths = [5, 256, 30, 30, 7, 200, 2, 64]
    batches = list(embedding._batches(lengths, 128))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 128
        assert lengths[batch[0]] == max(lengths[i] for i in batch)  # longest first: the padded width


def test_chroma_function_embeds_with_the_embedder():
    function = vectors.text_embedding_function()
    got = np.asarray(function(TEXTS[:40]), dtype=np.float32)
    assert np.abs(got - WANT[:40]).max() < 1e-4
    assert function.name() == "axiom_minilm_onnx"
    assert type(function).build_from_config(function.get_config()) is function
    assert function.get_config()["weights_sha256"] == embedding.PINNED["model.safetensors"]


def test_build_writes_the_graph_once_and_removes_stale_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("AXIOM_EMBEDDER_DIR", str(tmp_path))
    stale = tmp_path / f"{embedding.MODEL}-000000000000-r0.onnx"
    stale.write_bytes(b"an older graph")
    path = embedding.build()
    assert path == embedding.graph_path() and path.parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # stale graph and temporary file gone
    built = path.stat().st_mtime_ns
    assert embedding.build() == path and path.stat().st_mtime_ns == built  # present: not rebuilt
    fresh = embedding.Embedder(path, embedding.model_dir())
    np.testing.assert_allclose(fresh.encode(TEXTS[:20]), WANT[:20], atol=1e-4)


def test_build_refuses_weights_other_than_the_pinned_ones(tmp_path, monkeypatch):
    package = tmp_path / "model"
    package.mkdir()
    for name in embedding.PINNED:
        os.symlink(embedding.model_dir() / name, package / name)
    (package / "config.json").unlink()
    shutil.copy(embedding.model_dir() / "config.json", package / "config.json")
    with (package / "config.json").open("a") as f:
        f.write("\n")
    monkeypatch.setattr(embedding, "model_dir", lambda: package)
    with pytest.raises(RuntimeError, match=r"config\.json has sha256 \w+, not the pinned"):
        embedding.build(tmp_path / "graph.onnx")
    assert not (tmp_path / "graph.onnx").exists()
