"""The peer pipelines Simpul is compared with: plain aio-pika and FastStream, same workload, same sink."""
