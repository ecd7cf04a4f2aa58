"""omnidsl.mpc: collaborative Groth16 proving by N secret-shared servers (docs/mpc.md).

Modules: ``prg`` (seed expansion), ``shares``/``dealer`` (the data owner's sharing and triples),
``driver`` (AdditiveDriver for ``groth16.prover.prove``), ``network`` (Network protocol,
LocalNetwork), ``frames``/``tcp`` (authenticated TCP transport), ``config`` (servers.toml),
``server`` (``omnidsl serve``), ``coordinator`` (the data owner's ``prove_shared``), ``commands``.
"""
