"""Point ↔ bytes helpers in the backend's array encoding (one implementation:
``omnidsl.backend.codec``)."""

from __future__ import annotations

from omnidsl.backend.codec import (
    G1_BYTES,
    G2_BYTES,
    g1_array,
    g1_from_bytes,
    g1_list,
    g1_to_bytes,
    g2_array,
    g2_from_bytes,
    g2_list,
    g2_to_bytes,
)

__all__ = ["G1_BYTES", "G2_BYTES", "g1_array", "g1_from_bytes", "g1_list", "g1_to_bytes",
           "g2_array", "g2_from_bytes", "g2_list", "g2_to_bytes"]
