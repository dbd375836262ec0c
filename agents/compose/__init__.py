"""The composition layer: what puts games and learners together.

``runner`` (the PettingZoo play loop and the batched engine), ``views`` (Gymnasium
single-agent views with an embedded partner), ``experiment`` and ``results`` (many-seed runs
and their files), ``plotting``, ``bench``, ``training`` (SB3 followers against Hi-C),
``config`` (the one configuration idiom) and ``cli`` (the ``hic`` command). Nothing below this
layer (``hic_envs``, the learners of ``agents``) imports from it.
"""
