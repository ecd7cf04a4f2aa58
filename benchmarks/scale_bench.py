"""Paper scale: compile, setup, key load, plain and 3-server proving of large gradient rules.

    python benchmarks/scale_bench.py                 # CI sizes: norm_bound D = 2,000, cosine_committed 1,000
    python benchmarks/scale_bench.py --paper         # D = 100,000 for both rules, and the
                                                     # ResNet-20-sized norm_bound D = 272,474
    python benchmarks/scale_bench.py --cases norm_bound:100000 [--parties 3] [--no-snarkjs]

Every stage runs in a fresh child process so that its peak memory is its own (``ru_maxrss`` of
the child; the servers' ``VmHWM`` from /proc):

* build   — compile the rule (``circuits/RULE.omni``), compute the witness, dev setup, write the
            key directory (``proving_key.bin``, ``verification_key.json``) and ``w.wtns``;
* prove   — ``read_proving_key`` + loading the MSM bases (key load) and one plain proof
            (``prove_plain``; wall and CPU, all cores);
* mpc     — N ``omnidsl serve`` processes on 127.0.0.1 (one worker thread each: N servers share
            this machine's cores), every server loading its key at start-up; the data owner
            (this child) deals and drives one collaborative proof over TCP (mode split, bounded
            shares: the defaults) and verifies it.  Reported: wall of the whole ``prove`` (deal +
            servers + verification), the dealing, per server CPU, peak RSS and payload bytes sent,
            the largest material frame, the data owner's peak RSS;
* snarkjs — ``snarkjs groth16 prove`` of the same witness with the .zkey of the same key, which
            the build wrote at setup time (``dev_setup(..., zkey=...)``: its H section from τ and
            δ, no group DFT): fresh process, wall, CPU, peak RSS (node's heap limit raised to
            most of the free memory) or the error it stops with; then ``snarkjs groth16 verify``
            of its proof with our verification key, and its ratio to our plain proof.

Figures depend on the load of the machine (printed with ``os.getloadavg``): CPU seconds are the
robust ones.  docs/mpc.md ("At scale") lists the measured figures and the command lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CI_CASES = "norm_bound:2000,cosine_committed:1000"
PAPER_CASES = "norm_bound:100000,cosine_committed:100000,norm_bound:272474"


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


# ------------------------------------------------------------------ child stages


class _StageTimes:
    """A ``dev_setup`` stage hook recording each stage's wall and CPU seconds."""

    def __init__(self) -> None:
        self.times: dict[str, tuple[float, float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        yield
        self.times[name] = (time.perf_counter() - w, time.process_time() - c)


def stage_build(rule: str, d: int, out: Path, zkey: bool) -> dict:
    from mpc_bench import rule_inputs

    from omnidsl.backend import get_backend
    from omnidsl.compiler import compile_file
    from omnidsl.groth16.formats import write_vk
    from omnidsl.groth16.keys import write_proving_key
    from omnidsl.groth16.setup import dev_setup
    from omnidsl.r1cs.r1csfile import write_r1cs
    from omnidsl.r1cs.wtnsfile import write_wtns

    be = get_backend()
    res: dict = {}
    circuit, res["compile_s"], res["compile_cpu"] = _timed(
        compile_file, ROOT / "circuits" / f"{rule}.omni", {"D": d})
    res["compile_rss"] = _rss_mb()
    res["constraints"] = circuit.r1cs.n_constraints
    res["wires"] = circuit.r1cs.n_wires
    w, res["witness_s"], _ = _timed(circuit.witness, rule_inputs(rule, d))
    hook = _StageTimes()
    zk = out / "k.zkey" if zkey else None
    pk, res["setup_s"], res["setup_cpu"] = _timed(
        lambda: dev_setup(circuit.r1cs, be, stage=hook, zkey=zk))
    res["setup_rss"] = _rss_mb()
    if zk is not None:  # the zkey's share of the setup (H from τ, δ; the file written)
        res["zkey_s"], res["zkey_cpu"] = hook.times["zkey"]
        res["zkey_mb"] = zk.stat().st_size / 1e6
    res["domain"] = pk.domain_size
    keys = out / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    _, res["write_s"], _ = _timed(write_proving_key, pk, keys / "proving_key.bin")
    write_vk(pk.vk, keys / "verification_key.json")
    write_wtns(out / "w.wtns", w)
    write_r1cs(out / "c.r1cs", circuit.r1cs)
    res["key_mb"] = (keys / "proving_key.bin").stat().st_size / 1e6
    return res


def stage_prove(out: Path) -> dict:
    from omnidsl.backend import get_backend
    from omnidsl.field import limbs_to_bytes
    from omnidsl.groth16.keys import read_proving_key
    from omnidsl.groth16.prover import prove_plain
    from omnidsl.r1cs.wtnsfile import read_wtns

    be = get_backend()
    res: dict = {}
    z = limbs_to_bytes(read_wtns(out / "w.wtns"))
    # streamed into the backend, as `omnidsl prove` and the servers load a key
    pk, res["load_s"], _ = _timed(lambda: read_proving_key(out / "keys" / "proving_key.bin",
                                                           bases_only=be))
    res["load_rss"] = _rss_mb()
    _, res["prove_s"], res["prove_cpu"] = _timed(prove_plain, pk, z, be)
    res["prove_rss"] = _rss_mb()
    res["process_cpu"] = _process_cpu()  # the whole process: witness + key load + proof
    return res


def _process_cpu() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stage_mpc(out: Path, n: int, reps: int) -> dict:
    from omnidsl.backend import get_backend
    from omnidsl.field import limbs_to_bytes
    from omnidsl.groth16.keys import read_proving_key
    from omnidsl.mpc import cluster as cluster_mod
    from omnidsl.mpc.cluster import ServerCluster
    from omnidsl.proving import prove
    from omnidsl.r1cs.wtnsfile import read_wtns

    key = out / "keys" / "proving_key.bin"
    cluster_mod.START_TIMEOUT_S = 1800.0  # servers load their (multi-GB) key before listening
    z = limbs_to_bytes(read_wtns(out / "w.wtns"))
    # the owner computes the dealt MSMs (A, B2) and verifies: B1, H and L stay in the file
    pk = read_proving_key(key, bases_only=get_backend(), defer=("b1", "h", "l"))
    res: dict = {"runs": []}
    t = time.perf_counter()
    with ServerCluster(out / f"cluster{n}", n, {"c": out / "keys"}, timeout=1800.0,
                       threads=1, max_frame=(1 << 32) - 1) as cl:
        res["server_start_s"] = time.perf_counter() - t
        res["server_start_rss"] = [_vm_hwm_mb(p) for p in cl.pids()]
        for _ in range(reps):
            r = prove(pk, z, parties=cl.cfg, pk_path=key)
            res["runs"].append({
                "wall_s": r.wall_s, "deal_s": r.deal_s, "owner_msm_cpu": r.dealer_msm_cpu_s,
                "cpu": [p.cpu_s for p in r.reports], "server_wall": [p.wall_s for p in r.reports],
                "sent": [p.wire_bytes_sent for p in r.reports],
                "material": [p.material_bytes for p in r.reports],
                "stages": max(r.reports, key=lambda p: p.cpu_s).stage_cpu})
        res["server_rss"] = [_vm_hwm_mb(p) for p in cl.pids()]
        res["stage_peaks"] = [_stage_peaks(cl.logs.get(i, [])) for i in range(n)]
    res["owner_rss"] = _rss_mb()
    return res


def _stage_peaks(lines: list[str]) -> dict[str, int]:
    """The process peak (MB) at the end of each stage of the last session, from the server's
    stage log lines (``session S: STAGE W s (C s CPU, process peak P MB)``)."""
    import re

    peaks: dict[str, int] = {}
    for line in lines:
        m = re.search(r"session \S+: (.+?) [0-9.]+ s \([0-9.]+ s CPU, process peak (\d+) MB\)",
                      line)
        if m:
            peaks[m.group(1)] = int(m.group(2))
    return peaks


def _node_heap_mb() -> int:
    """Node's old-space limit for snarkjs: most of the memory available now (its default,
    about 4 GB, is what it stops at otherwise), at least 4 GB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return max(4096, int(int(line.split()[1]) / 1024 * 0.8))
    return 16384


def _run_measured(cmd: list[str], env: dict[str, str]) -> dict:
    """Run ``cmd`` as a fresh process: wall, CPU (all its threads), peak RSS, exit code, output
    (to a file, so that a chatty child never blocks on a full pipe before ``wait4``)."""
    with tempfile.TemporaryFile() as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode(errors="replace")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "code": proc.returncode, "out": text}


def stage_snarkjs(out: Path) -> dict:
    from omnidsl.npm import npm_bin

    zkey = out / "k.zkey"
    if not zkey.exists():
        return {"error": f"{zkey}: not written by the build stage"}
    heap = _node_heap_mb()
    env = dict(os.environ, NODE_OPTIONS=f"--max-old-space-size={heap}")
    res: dict = {"node_heap_mb": heap, "zkey_mb": zkey.stat().st_size / 1e6}
    proof, public = out / "sj_proof.json", out / "sj_public.json"
    p = _run_measured([str(npm_bin("snarkjs")), "groth16", "prove", str(zkey),
                       str(out / "w.wtns"), str(proof), str(public)], env)
    res.update(prove_s=p["wall"], prove_cpu=p["cpu"], prove_rss=p["rss"])
    if p["code"] != 0 or not proof.exists():
        lines = [ln for ln in p["out"].splitlines() if ln.strip()]
        res["error"] = f"exit {p['code']}: " + " | ".join(lines[-3:])[:300]
        return res
    v = _run_measured([str(npm_bin("snarkjs")), "groth16", "verify",
                       str(out / "keys" / "verification_key.json"), str(public), str(proof)], env)
    res["verified"] = v["code"] == 0 and "OK!" in v["out"]
    res["verify_s"] = v["wall"]
    if not res["verified"]:
        res["error"] = "snarkjs's proof does not verify with our verification key: " + \
            " | ".join(v["out"].splitlines()[-2:])[:300]
    return res


# ------------------------------------------------------------------ parent


def child(stage: str, *args: str) -> dict:
    """Run one stage in a fresh (niced as this process) interpreter; its JSON result."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                   os.environ.get("PYTHONPATH")])))
    p = subprocess.run([sys.executable, __file__, "--stage", stage, *args], capture_output=True,
                       text=True, env=env)
    if p.returncode:
        tail = " | ".join(p.stderr.strip().splitlines()[-4:])
        return {"error": f"{stage} failed: {tail}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_case(rule: str, d: int, work: Path, n: int, reps: int, snarkjs: bool,
             mpc: bool = True) -> dict:
    out = work / f"{rule}_{d}"
    out.mkdir(parents=True, exist_ok=True)
    case = {"rule": rule, "d": d, "load": os.getloadavg()[0]}
    done = out / "build.json"  # a build kept in --workdir is reused (keys, witness, zkey)
    if done.exists() and (not snarkjs or (out / "k.zkey").exists()):
        print(f"{rule} D={d}: reusing the build in {out}", file=sys.stderr, flush=True)
        case["build"] = json.loads(done.read_text())
    else:
        print(f"{rule} D={d}: build ...", file=sys.stderr, flush=True)
        case["build"] = child("build", rule, str(d), str(out), "zkey" if snarkjs else "")
        if "error" in case["build"]:
            return case
        done.write_text(json.dumps(case["build"]))
    print(f"  {case['build']['constraints']} constraints, domain {case['build']['domain']}; "
          "plain prove ...", file=sys.stderr, flush=True)
    case["prove"] = child("prove", str(out))
    if mpc:
        print(f"  {n}-server prove ...", file=sys.stderr, flush=True)
        case["mpc"] = child("mpc", str(out), str(n), str(reps))
    if snarkjs:
        print("  snarkjs ...", file=sys.stderr, flush=True)
        case["snarkjs"] = child("snarkjs", str(out))
    return case


def report(c: dict, n: int) -> None:
    """Print one case's figures (as soon as the case is done)."""
    b, p, m = c.get("build", {}), c.get("prove", {}), c.get("mpc", {})
    print(f"\n{c['rule']} D = {c['d']:,} (load average {c['load']:.2f} at start)")
    if "error" in b:
        print(f"  {b['error']}")
        return
    print(f"  R1CS      {b['constraints']:,} constraints, {b['wires']:,} wires, domain "
          f"2^{b['domain'].bit_length() - 1}; proving key {b['key_mb']:.0f} MB")
    print(f"  compile   {b['compile_s']:.1f} s wall, {b['compile_cpu']:.1f} s CPU, "
          f"peak {b['compile_rss']:.0f} MB (witness {b['witness_s']:.1f} s)")
    print(f"  setup     {b['setup_s']:.1f} s wall, {b['setup_cpu']:.1f} s CPU (dev setup), "
          f"peak {b['setup_rss']:.0f} MB; key written in {b['write_s']:.1f} s")
    if "zkey_s" in b:
        print(f"  zkey      written at setup time (H from τ, δ): {b['zkey_s']:.1f} s wall, "
              f"{b['zkey_cpu']:.1f} s CPU of the setup; {b['zkey_mb']:.0f} MB")
    if "error" in p:
        print(f"  plain     {p['error']}")
    else:
        print(f"  key load  {p['load_s']:.1f} s (streamed into the MSM bases), "
              f"peak {p['load_rss']:.0f} MB")
        print(f"  plain     {p['prove_s']:.1f} s wall, {p['prove_cpu']:.1f} s CPU, "
              f"peak {p['prove_rss']:.0f} MB; whole process {p['process_cpu']:.1f} s CPU")
    if not m:
        print(f"  {n} servers not run (--no-mpc)")
    elif "error" in m:
        print(f"  {n} servers {m['error']}")
    else:
        for i, r in enumerate(m["runs"]):
            cpu = ", ".join(f"{x:.1f}" for x in r["cpu"])
            sent = ", ".join(f"{x / 1e6:.0f}" for x in r["sent"])
            print(f"  {n} servers run {i + 1}: {r['wall_s']:.1f} s wall (deal "
                  f"{r['deal_s']:.1f} s, owner MSMs {r['owner_msm_cpu']:.1f} s CPU); CPU "
                  f"per server [{cpu}] s, sum {sum(r['cpu']):.1f} s; sent [{sent}] MB; "
                  f"material ≤ {max(r['material']) / 1e6:.0f} MB")
        rss = ", ".join(f"{x:.0f}" for x in m["server_rss"])
        print(f"  servers   start (key load) {m['server_start_s']:.1f} s; peak RSS per "
              f"server [{rss}] MB; data owner peak {m['owner_rss']:.0f} MB")
        stages = ", ".join(f"{k} {v:.1f}" for k, v in m["runs"][-1]["stages"].items())
        print(f"  stages    slowest server CPU: {stages}")
        top = max(m.get("stage_peaks") or [{}], key=lambda d: max(d.values(), default=0))
        if top:
            peaks = ", ".join(f"{k} {v:,}" for k, v in top.items())
            print(f"  peaks     process peak (MB) after each stage, largest server: {peaks}")
    s = c.get("snarkjs")
    if s is not None:
        report_snarkjs(s, p)
    sys.stdout.flush()


def report_snarkjs(s: dict, p: dict) -> None:
    if "prove_s" not in s:
        print(f"  snarkjs   {s['error']}")
        return
    figures = (f"{s['prove_s']:.1f} s wall, {s['prove_cpu']:.1f} s CPU, peak "
               f"{s['prove_rss']:.0f} MB (fresh process, key load included; node heap limit "
               f"{s['node_heap_mb']} MB, zkey {s['zkey_mb']:.0f} MB)")
    if "error" in s:
        print(f"  snarkjs   fails after {figures}: {s['error']}")
        return
    print(f"  snarkjs   {figures}; its proof verifies with our verification key")
    if "error" not in p:
        print(f"  ratio     snarkjs / omnidsl plain: CPU {s['prove_cpu'] / p['prove_cpu']:.2f}x "
              f"the proof, {s['prove_cpu'] / p['process_cpu']:.2f}x the whole process (key "
              f"load included); peak memory {s['prove_rss'] / p['prove_rss']:.2f}x; wall "
              f"{s['prove_s'] / (p['load_s'] + p['prove_s']):.2f}x (load + prove)")


def footer() -> None:
    print("\nTargets (issue 14): the 100k-entry norm rule proved by 3 servers in ≤ 60 s wall, "
          "≤ 4 GB per server.  Paper scale: `python benchmarks/scale_bench.py --paper` "
          "(docs/mpc.md, \"At scale\").")


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--stage":
        stage, args = sys.argv[2], sys.argv[3:]
        from omnidsl.procs import tune_allocator

        tune_allocator()
        fn = {"build": lambda: stage_build(args[0], int(args[1]), Path(args[2]),
                                           args[3:4] == ["zkey"]),
              "prove": lambda: stage_prove(Path(args[0])),
              "mpc": lambda: stage_mpc(Path(args[0]), int(args[1]), int(args[2])),
              "snarkjs": lambda: stage_snarkjs(Path(args[0]))}[stage]
        print(json.dumps(fn()))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=CI_CASES, help="comma-separated RULE:D (default: "
                    f"{CI_CASES})")
    ap.add_argument("--paper", action="store_true", help=f"the paper-scale cases: {PAPER_CASES}")
    ap.add_argument("--parties", type=int, default=3)
    ap.add_argument("--reps", type=int, default=1, help="collaborative proofs per case")
    ap.add_argument("--no-snarkjs", action="store_true")
    ap.add_argument("--no-mpc", action="store_true",
                    help="skip the N-server run (N keys in memory at once on one machine)")
    ap.add_argument("--workdir", type=Path, help="keep keys and witnesses here (WORKDIR/RULE_D; "
                    "a build found there is reused)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    spec = PAPER_CASES if args.paper else args.cases
    cases = []
    for item in spec.split(","):
        rule, _, d = item.partition(":")
        if rule not in ("norm_bound", "cosine_committed") or not d.isdigit():
            raise SystemExit(f"--cases: {item!r} is not RULE:D with RULE norm_bound or "
                             "cosine_committed")
        cases.append((rule, int(d)))
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        results = []
        for rule, d in cases:
            results.append(run_case(rule, d, work, args.parties, args.reps,
                                    not args.no_snarkjs, not args.no_mpc))
            report(results[-1], args.parties)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
