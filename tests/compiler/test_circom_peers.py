"""Every shipped rule has a hand-written circom peer (benchmarks/circom_peers.py) for
``compile_bench.py --rules``: the file exists, defines the template, and names the rule's
public inputs as signals (a new rule without a peer fails here)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from omnidsl.compiler.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]


def _peers():
    spec = importlib.util.spec_from_file_location("circom_peers", ROOT / "benchmarks" /
                                                  "circom_peers.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["circom_peers"] = mod
    spec.loader.exec_module(mod)
    return mod.PEERS


def test_every_shipped_rule_has_a_circom_peer():
    peers = {p.rule: p for p in _peers()}
    rules = {p.stem for p in (ROOT / "circuits").glob("*.omni")}
    assert rules == set(peers)
    for name, peer in peers.items():
        text = (ROOT / "benchmarks" / "circom" / peer.file).read_text()
        assert re.search(rf"template {peer.template}\(D\b", text), name
        checked = Pipeline.from_file(ROOT / "circuits" / f"{name}.omni", {"D": 4}).checked
        # a committed vector is one public signal, its commitment (`<name>Hash` in circom)
        expected = {f"{i.name}Hash" if i.committed else i.name for i in checked.inputs
                    if i.visibility == "public"}
        assert set(peer.public) == expected, name
        for sig in peer.public:
            assert re.search(rf"signal input {sig}\b", text), (name, sig)
