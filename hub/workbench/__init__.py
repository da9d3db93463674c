"""The onboarding workbench (issue 18): a local web application that walks a regional engineer from a raw
sample to a source block that ``simpul check-config`` accepts, without writing code.

``engine`` is the only module that calls into the kit and the adapters (read, propose, test); ``app`` is the
aiohttp application (pages and JSON API) that ``simpul workbench`` serves on 127.0.0.1 and that a node mounts
under ``/workbench`` for admin tokens with the ``act`` role; ``probe`` reads a live source the engineer
typed in (REST, SOAP, database) with a limit and a timeout.
"""
