"""omnidsl.lang"""
