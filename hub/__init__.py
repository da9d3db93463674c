"""Simpul hub: the runtime of the SPBE interoperability bus.

The hub maps raw records from regional systems into shared schemas, validates them, wraps them in
envelopes, publishes them to RabbitMQ with publisher confirms and only then acknowledges the source.
"""

__version__ = "0.1.0"
