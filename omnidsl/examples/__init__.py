"""Example files shipped with the package, for ``omnidsl init`` (package data).

``norm_bound.omni`` is ``circuits/norm_bound.omni`` (a test keeps them equal), ``input.json`` an
input for it at ``D=8``, ``test_rule.py`` a pytest file checking the rule on that input and on a
refused one.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

#: the files ``omnidsl init`` writes, in order
SCAFFOLD = ("norm_bound.omni", "input.json", "test_rule.py")


def example(name: str) -> Traversable:
    """One shipped example file."""
    return files(__name__) / name
