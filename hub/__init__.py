"""Simpul hub: the runtime of the SPBE interoperability bus.

The hub maps raw records from regional systems into shared schemas, validates them, wraps them in
envelopes, publishes them to RabbitMQ with publisher confirms and only then acknowledges the source.

Its packages are layered, each importing only the layers below it (docs/design.md, "Layers"; enforced by
the import-linter contracts in pyproject.toml): ``testing`` > ``cli`` > ``demo`` > ``node`` > its parts
(``node_consumers | node_http | node_sources``) > ``http`` > ``catalog`` > ``workbench`` > ``feeds |
levels | admin | kit`` > ``completeness`` > ``adapters`` > ``consume`` > ``ingest`` > ``quarantine`` >
``mapping | trust`` > ``model | transport`` > the foundations (``settings | responses | logging | metrics
| faultpoints | gc_tuning | backoff``) > ``errors``. No package of the hub imports an adapter package:
adapters arrive through the ``simpul.adapters`` entry points."""

__version__ = "0.1.0"
