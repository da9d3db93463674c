"""The way in: an HTTP ingest item becomes a source record (``items``), is validated and enveloped
(``validation``, handing on ``prepared`` records; what a refusal says and may echo is ``issues``, which
regions an office may report for ``offices``), offered through the pipeline (``pipeline``) and published
with confirms in batches (``publisher``).

May import ``hub.quarantine`` (to file what does not fit) and every layer below it: mapping, trust,
model, transport and the foundations. Nothing here imports a face (HTTP, CLI, admin), the consume side or
the node."""
