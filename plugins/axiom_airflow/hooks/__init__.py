"""Hooks Axiom adds to the providers' PostgresHook, RedisHook and Neo4jHook."""
