"""omnidsl.mpc"""
