"""omnidsl.mpc: collaborative Groth16 proving by N secret-shared servers (docs/mpc.md).

Modules: ``schemes`` (the sharing-scheme seam; ``schemes.additive``, ``schemes.shamir``), ``prg``
(seed expansion), ``messages`` (step names, owner↔server messages), ``binding`` (committed
shares), ``network`` (Network protocol, LocalNetwork), ``frames``/``tcp``/``handshake``
(authenticated TCP transport), ``config`` (servers.toml), ``server`` (``omnidsl serve``),
``admission``, ``coordinator`` (the data owner's ``run_session``), ``local`` (N parties in
process), ``attribution``, ``commands``.  The entry point is ``omnidsl.proving.prove``.
"""
