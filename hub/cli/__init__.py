"""The ``simpul`` command line: one module per verb group, wired together by ``root``.

The top of the house: may import anything in ``hub`` but ``hub.testing``. Each verb group imports its
working modules lazily, so ``simpul --help`` stays fast."""

from hub.cli.root import main

__all__ = ["main"]
