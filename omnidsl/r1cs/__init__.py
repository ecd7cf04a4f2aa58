"""omnidsl.r1cs: the sparse constraint system and the iden3/circom file formats.

``system`` (R1CS, SparseMatrix), ``r1csfile`` (.r1cs v1), ``wtnsfile`` (.wtns v2),
``symfile`` (.sym), ``coeffs`` (vectorised arithmetic on coefficient ids).
"""

from omnidsl.r1cs.r1csfile import read_r1cs, read_r1cs_header, write_r1cs
from omnidsl.r1cs.symfile import read_sym, write_sym
from omnidsl.r1cs.system import R1CS, SparseMatrix
from omnidsl.r1cs.wtnsfile import read_wtns, write_wtns

__all__ = ["R1CS", "SparseMatrix", "read_r1cs", "read_r1cs_header", "read_sym", "read_wtns",
           "write_r1cs", "write_sym", "write_wtns"]
