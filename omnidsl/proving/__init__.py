"""omnidsl.proving: the one proving entry point (``prove``) over the plain prover, N parties in
process, and N servers; and the ``omnidsl prove`` command.  See ``api.py``."""

from omnidsl.groth16.result import PartyReport, ProofResult
from omnidsl.proving.api import as_witness, prove

__all__ = ["PartyReport", "ProofResult", "as_witness", "prove"]
