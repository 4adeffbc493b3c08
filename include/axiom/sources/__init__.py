"""Where market data comes from: live providers and offline, real, packaged history."""
