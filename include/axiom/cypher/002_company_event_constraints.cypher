// 002: companies share their node with Pipeline 1's Stock (one node, labels :Stock:Company);
// sectors and market events are keyed by name and ledger event id.
CREATE CONSTRAINT company_symbol IF NOT EXISTS FOR (c:Company) REQUIRE c.symbol IS UNIQUE;
CREATE CONSTRAINT sector_name IF NOT EXISTS FOR (s:Sector) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT market_event_id IF NOT EXISTS FOR (e:MarketEvent) REQUIRE e.event_id IS UNIQUE;
