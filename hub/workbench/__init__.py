"""The onboarding workbench (issue 18): a local web application that walks a regional engineer from a raw
sample to a source block that ``simpul check-config`` accepts, without writing code.

``engine`` is the only module that calls into the kit and the adapters (read, propose, test); ``app`` is the
aiohttp application (pages and JSON API) that ``simpul workbench`` serves on 127.0.0.1 and that a node mounts
under ``/workbench`` for admin tokens with the ``act`` role, with its handlers by job in ``app_pages``,
``app_reference``, ``app_samples`` and ``app_json`` over ``app_common``; ``probe`` reads a live source the
engineer typed in (REST, SOAP, database) with a limit and a timeout. ``engine`` keeps its parts by job in
``engine_sample``, ``engine_fields``, ``engine_form`` and ``engine_helpers``; ``openapi`` is the document of
the workbench's own API.

May import ``feeds | levels | admin | kit`` and every layer below them (the adapter framework, mapping,
settings, the foundations); not ``catalog``, the HTTP face, the node or the CLI, which are above it and
mount or serve it (import-linter's ``hub-layers`` contract).
"""
