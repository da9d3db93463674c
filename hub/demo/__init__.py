"""``simpul demo``: simulated regional offices push realistic records through a real broker to the centre."""
