"""omnidsl.ml"""
