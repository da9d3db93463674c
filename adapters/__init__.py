"""Adapters: the source and sink ends that connect regional systems and the central warehouse to the bus."""
