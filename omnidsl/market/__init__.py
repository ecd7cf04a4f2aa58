"""omnidsl.market"""
