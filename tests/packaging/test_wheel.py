"""The wheel works anywhere: built with maturin (incremental in native/target), installed into a
fresh venv outside the repository, then the README quickstart runs from an empty folder — first
with the core alone (a collaborative proof by three ``omnidsl serve`` processes included; the
chain steps are refused with an "install omnidsl[chain]" line), then with the ``chain`` and
``tester`` extras.  Nothing is imported from the checkout (no
PYTHONPATH, the working folder is elsewhere); the node tools are the checkout's node_modules,
given by ``$OMNIDSL_NODE_MODULES`` as a user with existing tools would.  Timings and sizes are
printed (``-s``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omnidsl.procs import free_ports, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(args: list[str | Path], cwd: Path, env: dict[str, str], ok: bool = True,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if ok:
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user outside the checkout: no PYTHONPATH, caches in a temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["OMNIDSL_CACHE"] = str(tmp_path_factory.mktemp("compile-cache"))
    env["OMNIDSL_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    env["OMNIDSL_NODE_MODULES"] = str((ROOT / "node_modules").resolve())
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "CARGO_TARGET_DIR": str(ROOT / "native" / "target")}
    t0 = time.perf_counter()
    run([BIN / "maturin", "build", "--release", "--quiet", "--out", out], ROOT, env,
        timeout=1500)
    print(f"\nwheel built in {time.perf_counter() - t0:.1f} s")
    (whl,) = out.glob("omnidsl-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, clean_env: dict[str, str]) -> Path:
    v = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", v], v.parent, clean_env)
    return v


def test_the_wheel_ships_the_package_data(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for need in ("omnidsl/py.typed", "omnidsl/_native.abi3.so",
                 "omnidsl/templates/verifier_groth16.sol.j2", "omnidsl/contracts/Market.sol",
                 "omnidsl/chain/artifacts/Market.json", "omnidsl/solidity/solc_server.js",
                 "omnidsl/node/package.json", "omnidsl/node/package-lock.json",
                 "omnidsl/lang/grammar.lark", "omnidsl/examples/norm_bound.omni"):
        assert need in names
    assert not any(n.startswith(("node_modules/", "tests/", "omnidsl/node/node_modules"))
                   for n in names)


def test_the_quickstart_runs_from_an_installed_wheel(wheel: Path, venv: Path,
                                                     clean_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    pip, omni = venv / "bin" / "pip", venv / "bin" / "omnidsl"
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    before = du(site)
    t0 = time.perf_counter()
    run([pip, "install", "--quiet", wheel], tmp_path, clean_env)
    core = du(site) - before
    print(f"core install: {time.perf_counter() - t0:.1f} s, {core / 1e6:.0f} MB")
    where = run([venv / "bin" / "python", "-c", "import omnidsl; print(omnidsl.__file__)"],
                tmp_path, clean_env).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    assert run([omni, "--version"], tmp_path, clean_env).stdout.strip() == "omnidsl 0.1.0"

    run([omni, "init", "tour"], tmp_path, clean_env)
    tour = tmp_path / "tour"
    steps: list[list[str | Path]] = [
        ["compile", "norm_bound.omni", "--param", "D=8", "-o", "build", "--report"],
        ["r1cs", "info", "build/norm_bound.r1cs"],
        ["witness", "norm_bound.omni", "input.json", "--param", "D=8", "-o", "w.wtns"],
        ["wtns", "check", "build/norm_bound.r1cs", "w.wtns"],
        ["setup", "dev", "norm_bound.omni", "--param", "D=8", "-o", "keys"],
        ["prove", "--keys", "keys", "--witness", "w.wtns", "-o", "proof.json",
         "--public", "public.json"],
        ["verify", "keys/verification_key.json", "public.json", "proof.json"],
        ["prove", "--keys", "keys", "--witness", "w.wtns", "--parties", "3",
         "-o", "proof3.json", "--public", "public3.json"],
        ["verify", "keys/verification_key.json", "public3.json", "proof3.json"],
    ]
    for step in steps:
        run([omni, *step], tour, clean_env)
    assert "OK" in run([omni, *steps[6]], tour, clean_env).stdout
    prove_with_servers(omni, tour, clean_env)

    chain_steps: list[list[str | Path]] = [
        ["export-verifier", "keys", "-o", "Verifier.sol", "--abi", "--bin"],
        ["zkey", "export", "soliditycalldata", "public.json", "proof.json"],
        ["verify-onchain", "--chain", "embedded", "--vk", "keys/verification_key.json",
         "--proof", "proof.json", "--public", "public.json"],
    ]
    refused = run([omni, *chain_steps[0]], tour, clean_env, ok=False)
    assert refused.returncode == 1
    assert "pip install 'omnidsl[chain]'" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tour / "Verifier.sol").exists()

    t0 = time.perf_counter()
    run([pip, "install", "--quiet", f"{wheel}[chain,tester]"], tmp_path, clean_env)
    print(f"[chain,tester] install: {time.perf_counter() - t0:.1f} s, "
          f"{(du(site) - before - core) / 1e6:.0f} MB more")
    for step in chain_steps:
        run([omni, *step], tour, clean_env)
    assert (tour / "Verifier.sol").read_text().count("contract ") >= 1
    assert any(tour.glob("Verifier*.bin")) and any(tour.glob("Verifier*.abi.json"))


def free_base_port(n: int) -> int:
    """A base port whose next ``n`` ports are free now (servers-init takes consecutive ports)."""
    for _ in range(50):
        base = free_ports(1)[0]
        if base + n < 65536 and all(port_free(base + i) for i in range(n)):
            return base
    raise AssertionError("no free consecutive ports")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prove_with_servers(omni: Path, tour: Path, env: dict[str, str]) -> None:
    """The quickstart's collaborative proof by 3 `omnidsl serve` processes of the wheel."""
    run([omni, "servers-init", "3", "-o", "srv", "--circuit", "norm=keys",
         "--port", str(free_base_port(3))], tour, env)
    procs = [subprocess.Popen([str(omni), "serve", "--id", str(i), "--config", "srv/servers.toml"],
                              cwd=tour, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for i in range(3)]
    try:
        for i, p in enumerate(procs):
            assert p.stdout is not None and p.stdout.readline().strip() == f"ready {i}"
        run([omni, "prove", "--servers", "srv/servers.toml", "--keys", "keys", "--witness",
             "w.wtns", "-o", "proofs.json", "--public", "publics.json"], tour, env)
        run([omni, "verify", "keys/verification_key.json", "publics.json", "proofs.json"],
            tour, env)
    finally:
        for p in procs:
            stop_process(p)
