"""The hub's HTTP face: record ingest, health and metrics (aiohttp)."""
