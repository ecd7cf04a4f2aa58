"""omnidsl.ml: bundled datasets, numpy models, fixed-point encoding, attacks, training loop."""
