"""The schema catalogue at run time: upcasting at sinks, the versions-seen metric, the documents of the bus
(JSON Schema, code lists, AsyncAPI, OpenAPI, Markdown and HTML) and their HTTP face at ``/v1/catalog``."""
