"""omnidsl.lang: the rule language front end (grammar, parser, AST, checker, built-in registry)."""

from omnidsl.lang.builtins import REGISTRY, Builtin
from omnidsl.lang.checker import CheckedRule, check
from omnidsl.lang.parser import parse, parse_file

__all__ = ["REGISTRY", "Builtin", "CheckedRule", "check", "parse", "parse_file"]
