"""The example rules of circuits/ with small parameters and satisfying inputs (shared by the
groth16, mpc and solidity tests)."""

from __future__ import annotations

from pathlib import Path

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"

# Small parameters and satisfying inputs for each rule (a new rule must add an entry here).
CASES: dict[str, tuple[dict[str, int], dict[str, object]]] = {
    "norm_bound": ({"D": 8}, {"g": [0.1, -0.2, 0.3, 1.5, -3.9, 0.0, 0.25, 2.0],
                              "max_norm": 6.0}),
    "range": ({"D": 8}, {"x": [0.0, 0.5, 1.0, 0.25, 0.75, 0.1, 0.9, 0.3], "lo": 0.0,
                         "hi": 1.0}),
    "cosine": ({"D": 6}, {"g": [0.5, -0.25, 1.0, 0.0, 0.75, -1.0],
                          "ref": [0.4, -0.2, 1.1, 0.1, 0.7, -0.9], "tau": 0.25,
                          "max_norm": 4.0, "min_norm": 0.5}),
    "cosine_committed": ({"D": 6}, {"g": [0.5, -0.25, 1.0, 0.0, 0.75, -1.0],
                                    "ref": [0.4, -0.2, 1.1, 0.1, 0.7, -0.9], "tau": 0.25,
                                    "max_norm": 4.0, "min_norm": 0.5}),
    "mean_output": ({"D": 8}, {"g": [0.5, -0.25, 1.0, 0.0, 0.75, -1.0, 0.125, 0.5],
                               "clip": 1.0}),
    "market_norm": ({"D": 6}, {"g": [0.5, -0.25, 1.0, 0.0, 0.75, -1.0], "max_norm": 4.0,
                               "owner": 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
                               "rho": 123456789, "mask": 987654321}),
    "market_cosine": ({"D": 6}, {"g": [0.5, -0.25, 1.0, 0.0, 0.75, -1.0],
                                 "ref": [0.4, -0.2, 1.1, 0.1, 0.7, -0.9], "tau": 0.25,
                                 "max_norm": 4.0, "min_norm": 0.5,
                                 "owner": 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
                                 "rho": 123456789, "mask": 987654321}),
    "outliers": ({"D": 8, "K": 3}, {"x": [0.5, 1.0, -2.0, 3.0, 0.25, 0.0, 1.5, -1.0],
                                    "spread": 8.0, "cap": 7.0}),
}
