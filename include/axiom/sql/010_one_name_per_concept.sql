-- 010: one name per concept (the rule in axiom.stores): a table is named for its concept first.

-- A trading signal is a signal, as in signal:stream, signal_updates and signal_evaluation.
ALTER TABLE trading_signal RENAME TO signal;
ALTER TABLE signal RENAME CONSTRAINT trading_signal_pkey TO signal_pkey;
ALTER TABLE signal RENAME CONSTRAINT trading_signal_check TO signal_check;
ALTER TABLE signal RENAME CONSTRAINT trading_signal_kind_check TO signal_kind_check;

-- A sector's sensitivity to a market event belongs to the market event.
ALTER TABLE event_sector_sensitivity RENAME TO market_event_sector_sensitivity;
ALTER TABLE market_event_sector_sensitivity
    RENAME CONSTRAINT event_sector_sensitivity_pkey TO market_event_sector_sensitivity_pkey;
ALTER TABLE market_event_sector_sensitivity
    RENAME CONSTRAINT event_sector_sensitivity_sensitivity_check TO market_event_sector_sensitivity_sensitivity_check;
ALTER TABLE market_event_sector_sensitivity
    RENAME CONSTRAINT event_sector_sensitivity_event_id_fkey TO market_event_sector_sensitivity_event_id_fkey;
