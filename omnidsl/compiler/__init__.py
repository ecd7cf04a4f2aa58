"""omnidsl.compiler: checked rule → R1CS (vectorised gadgets) → witness."""

from omnidsl.compiler.circuit import Circuit, compile_checked, compile_file, compile_rule
from omnidsl.compiler.pipeline import Compiled, Lowered, Pipeline

__all__ = ["Circuit", "Compiled", "Lowered", "Pipeline", "compile_checked", "compile_file",
           "compile_rule"]
