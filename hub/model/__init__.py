"""What a record is while it moves through the hub: the source record and the mapped record
(``records``), its routing key (``router``) and the body of an AMQP message (``codec``).

Imports only the foundations (``hub.errors``) and ``schemas``. Adapters import from here: these are the
shapes a source hands over and a sink receives.
"""
