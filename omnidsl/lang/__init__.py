"""omnidsl.lang: the rule language front end (grammar, parser, AST; checker)."""

from omnidsl.lang.parser import parse, parse_file

__all__ = ["parse", "parse_file"]
