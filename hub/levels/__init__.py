"""Levels: kecamatan -> kab/kota -> provinsi -> pusat. Topology as code (``render``, ``apply``), the
rules of what a level holds (``rules``, ``release``) and the level worker that verifies records and
forwards them upward over a RabbitMQ shovel (``forwarder``).

May import ``hub.completeness``, the adapter framework and every layer below it (consume, ingest,
quarantine, mapping, trust, model, transport, the foundations); not its siblings (feeds, admin, kit) nor
anything above."""
