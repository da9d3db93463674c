"""The documents of the bus at run time: JSON Schema and code lists, AsyncAPI (``asyncapi``), OpenAPI
(``openapi``), Markdown and HTML (``render``), the topology diagram (``diagram``), all built by
``export`` and served at ``/v1/catalog`` (``http``).

May import ``hub.feeds`` (the feed API's OpenAPI part), ``hub.levels`` (routing rules), ``hub.admin``,
``hub.kit`` and every layer below them; not the HTTP face, the node, the demo or the CLI."""
