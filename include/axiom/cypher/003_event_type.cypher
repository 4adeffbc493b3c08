// 003: a MarketEvent's type is `event_type`, as in the ledger, Chroma and the market_events channel.
MATCH (e:MarketEvent) WHERE e.type IS NOT NULL SET e.event_type = e.type REMOVE e.type;
