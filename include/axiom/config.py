"""Settings read from the environment (``.env`` locally, the compose file under Docker)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Connection ids: the same names serve Airflow (AIRFLOW_CONN_<ID>) and the CLI.
POSTGRES_CONN_ID = "axiom_postgres"
REDIS_CONN_ID = "axiom_redis"
NEO4J_CONN_ID = "axiom_neo4j"
CHROMA_CONN_ID = "axiom_chroma"


@dataclass(frozen=True)
class Settings:
    """Tunables with sane defaults; each can be overridden by an ``AXIOM_*`` variable."""

    price_provider: str = "offline"
    latest_price_ttl: int = 86_400
    company_metadata_ttl: int = 86_400
    correlation_ttl: int = 86_400
    landing_dir: Path = Path(".state/landing")
    synthetic_dir: Path = Path(".state/synthetic")
    pattern_window: int = 30
    insight_ttl: int = 86_400
    symbol_chunk: int = 25

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            price_provider=env.get("AXIOM_PRICE_PROVIDER", cls.price_provider),
            latest_price_ttl=int(env.get("AXIOM_LATEST_PRICE_TTL", cls.latest_price_ttl)),
            company_metadata_ttl=int(env.get("AXIOM_COMPANY_METADATA_TTL", cls.company_metadata_ttl)),
            correlation_ttl=int(env.get("AXIOM_CORRELATION_TTL", cls.correlation_ttl)),
            landing_dir=Path(env.get("AXIOM_LANDING_DIR", str(cls.landing_dir))),
            synthetic_dir=Path(env.get("AXIOM_SYNTHETIC_DIR", str(cls.synthetic_dir))),
            pattern_window=int(env.get("AXIOM_PATTERN_WINDOW", cls.pattern_window)),
            insight_ttl=int(env.get("AXIOM_INSIGHT_TTL", cls.insight_ttl)),
            symbol_chunk=int(env.get("AXIOM_SYMBOL_CHUNK", cls.symbol_chunk)),
        )
