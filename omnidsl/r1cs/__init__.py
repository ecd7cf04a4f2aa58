"""omnidsl.r1cs"""
