"""Reporting completeness: who owes which report for which period (``periods``, ``compute``), and who has
sent it, read from the warehouse through ``hub.adapters.warehouse`` (``service``).

May import the adapter framework and every layer below it (``hub.mapping`` for time zones, the
foundations, ``hub.settings`` for obligations) and ``schemas`` (``schemas.periods``); not the feeds or
anything above."""
