"""What a record is while it moves through the hub: the source record and the mapped record, and the one
rule for revisions (``records``), its routing key (``router``) and the body of an AMQP message
(``codec``).

May import only the foundations (today ``hub.errors``) and ``schemas``. Adapters import from here: these
are the shapes a source hands over and a sink receives."""
