"""`servers-init` never silently replaces a cluster's keys, and a key mismatch is reported with
its real cause (issue 10, item 11)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from omnidsl.backend import get_backend
from omnidsl.cli import main
from omnidsl.errors import NetworkError
from omnidsl.field import bytes_to_limbs
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.config import load_config, write_config
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys
from tests.mpc.helpers import prove_shared


def _digests(d: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.iterdir())}


def test_servers_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "cluster"
    assert main(["servers-init", "2", "-o", str(out), "--port", "7300"]) == 0
    before = _digests(out)
    capsys.readouterr()
    assert main(["servers-init", "3", "-o", str(out), "--port", "7400"]) == 1
    err = capsys.readouterr().err
    assert f"{out / 'servers.toml'}: a cluster's configuration already exists" in err
    assert "nothing was written" in err and "--force" in err and "Traceback" not in err
    assert _digests(out) == before
    # a lone key file counts too
    (out / "servers.toml").unlink()
    assert main(["servers-init", "2", "-o", str(out)]) == 1
    assert "server0.key: a cluster's key already exists" in capsys.readouterr().err
    assert not (out / "servers.toml").exists()
    assert main(["servers-init", "3", "-o", str(out), "--port", "7400", "--force"]) == 0
    cfg = load_config(out / "servers.toml")
    assert cfg.n == 3 and cfg.servers[0].port == 7400
    assert _digests(out)["server0.key"] != before["server0.key"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    be = get_backend()
    root = tmp_path_factory.mktemp("mismatch")
    params, inputs = CASES["range"]
    pk, z, _ = make_keys("range", params, inputs, root / "keys", be)
    return root / "keys", pk, z, be


@pytest.mark.slow
def test_keys_regenerated_under_running_servers_are_reported_as_such(tmp_path, keys, capsys):
    d, _, z, _ = keys
    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(z))
    with Cluster(tmp_path / "cl", 2, {"range": d}, timeout=5).start_all() as cl:
        ports = [s.port for s in cl.cfg.servers]
        # the operator re-runs servers-init (with --force) while the servers keep running
        write_config(cl.dir, 2, 0, circuits={"range": str(d)}, timeout=5, ports=ports,
                     force=True)
        argv = ["prove-shared", "--servers", str(cl.config_path), "--keys", str(d),
                "--witness", str(wtns), "-o", str(tmp_path / "p.json"),
                "--public", str(tmp_path / "pub.json")]
        capsys.readouterr()
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "server 0 could not be authenticated: the key it proves it holds differs from " \
               "its public_key in servers.toml" in err
        assert "servers-init" in err and "restart every server" in err
        assert "retry when every server is up" not in err
        assert not (tmp_path / "p.json").exists()


@pytest.mark.slow
def test_servers_with_different_keys_name_each_other(tmp_path, keys):
    """Server 1 restarted with a new servers.toml while server 0 runs the old one: server 0's
    authenticated report names the mismatch and the data owner sees it."""
    d, pk, z, be = keys
    with Cluster(tmp_path / "cl", 2, {"range": d}, timeout=5).start_all() as cl:
        ports = [s.port for s in cl.cfg.servers]
        new = write_config(tmp_path / "new", 2, 0, circuits={"range": str(d)}, timeout=5,
                           ports=ports)
        cl.kill(1)
        cl.start(1, "--config", str(new))
        old_text = cl.config_path.read_text()
        new_cfg = load_config(new)
        hybrid = tmp_path / "owner.toml"  # what each server really runs with
        hybrid.write_text(old_text.replace(cl.cfg.servers[1].public_key.hex(),
                                           new_cfg.servers[1].public_key.hex()))
        with pytest.raises(NetworkError) as err:
            prove_shared(load_config(hybrid), d / "proving_key.bin", z, be, pk=pk)
        msg = str(err.value)
        assert "server 0 could not authenticate server 1 at step 'handshake': the key it " \
               "proves it holds differs from its public_key in servers.toml" in msg
        assert "re-run `omnidsl servers-init` once and restart every server" in msg
        # the old configuration still works with server 1 back on its old keys
        cl.kill(1)
        cl.start(1)
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)
