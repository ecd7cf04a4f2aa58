"""omnidsl.solidity"""
