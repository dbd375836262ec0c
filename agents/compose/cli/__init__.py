"""The ``hic`` command (:mod:`.main`), its commands' typed configurations (:mod:`.commands`)
and the one configuration idiom that parses them (:mod:`.config`).

``python -m agents.compose.cli`` is ``hic``.
"""

from agents.compose.cli.main import main

__all__ = ["main"]
