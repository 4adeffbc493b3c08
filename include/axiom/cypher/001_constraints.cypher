// 001: uniqueness of the graph's natural keys (MERGE relies on them for idempotent writes).
CREATE CONSTRAINT stock_symbol IF NOT EXISTS FOR (s:Stock) REQUIRE s.symbol IS UNIQUE;
