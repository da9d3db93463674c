"""Levels: kecamatan -> kab/kota -> provinsi -> pusat. Topology as code (render, apply) and the level
worker that verifies records and forwards them upward over a RabbitMQ shovel."""
