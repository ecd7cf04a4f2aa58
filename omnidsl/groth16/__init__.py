"""omnidsl.groth16"""
