"""omnidsl: gradient-validity rules → R1CS → Groth16 (collaborative) → Ethereum market."""

from omnidsl.errors import InternalError, OmniDSLError

__all__ = ["InternalError", "OmniDSLError", "prove"]


def __getattr__(name: str) -> object:
    """``omnidsl.prove`` (= ``omnidsl.proving.prove``), imported on first use."""
    if name == "prove":
        from omnidsl.proving import prove

        return prove
    raise AttributeError(f"module 'omnidsl' has no attribute {name!r}")
__version__ = "0.1.0"
