"""Shared, versioned schemas of Simpul: the envelope, the payloads, value types and region reference data."""
