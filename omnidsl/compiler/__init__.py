"""omnidsl.compiler"""
