"""omnidsl.compiler: checked rule → R1CS (vectorised gadgets) → witness."""

from omnidsl.compiler.circuit import Circuit, compile_checked, compile_file, compile_rule

__all__ = ["Circuit", "compile_checked", "compile_file", "compile_rule"]
