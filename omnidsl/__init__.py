"""omnidsl: gradient-validity rules → R1CS → Groth16 (collaborative) → Ethereum market."""

from omnidsl.errors import InternalError, OmniDSLError

__all__ = ["InternalError", "OmniDSLError"]
__version__ = "0.1.0"
