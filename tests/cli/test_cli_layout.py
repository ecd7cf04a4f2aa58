"""Audit: `omnidsl witness --circuit` maps the -O0 witness through a saved wire map; a map from a
compiler that lowered the same source differently (e.g. before an audit fix added wires) must be
refused, not silently applied to the wrong wires."""

from __future__ import annotations

import json

from omnidsl.cli import main

RULE = """rule N { private u: int[2] bits 4; private v: int[2] bits 4; public t: int bits 4;
  assert t * norm(u) < norm(v); output o = u[0]; }"""


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_stale_wire_layout_refused(tmp_path, capsys):
    rule = tmp_path / "n.omni"
    rule.write_text(RULE)
    out = tmp_path / "build"
    assert run(capsys, "compile", str(rule), "-o", str(out))[0] == 0
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps({"u": [1, 0], "v": [1, 1], "t": -2}))
    desc_path = out / "n.json"
    desc = json.loads(desc_path.read_text())
    assert desc["n_wires_o0"] > desc["n_wires"]
    code, err = run(capsys, "witness", str(rule), str(inp), "-o", str(tmp_path / "a.wtns"),
                    "--circuit", str(desc_path))
    assert code == 0, err
    desc["n_wires_o0"] -= 3  # as written by a compiler whose lowering had 3 wires fewer
    desc_path.write_text(json.dumps(desc))
    code, err = run(capsys, "witness", str(rule), str(inp), "-o", str(tmp_path / "b.wtns"),
                    "--circuit", str(desc_path))
    assert code == 1 and "different omnidsl version" in err and "Traceback" not in err
