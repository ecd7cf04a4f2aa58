"""docs/privacy.md's noise table: what noise on the published model costs and what it hides.

    python benchmarks/model_noise.py --rounds 15 --seeds 5

For each model (softmax regression, the 64-100-10 MLP) and each σ of ``--sigmas``: the market's
ML path (:class:`omnidsl.ml.federated.DigitsSource` with ``model_noise`` σ, 8 data owners, the
market's terms τ = 0.2, bound = ‖ref‖, min_norm = 0.01 decided by the Python mirror of the rule,
gradients rounded to the 12-bit fixed point the circuit sees), ``--rounds`` rounds, the mean over
``--seeds`` data splits and initialisations (the noise itself comes from the OS CSPRNG):

- the MO's clear model's test accuracy, all honest and with 3 label-flipping DOs, and the honest
  DOs refused per round;
- the function a DO gets: the last published model's accuracy and how often its predictions
  agree with the clear model's;
- the DO's attack (omnidsl/ml/model_recovery.py): the RMS error per parameter, in units of its
  layer's weight spread, of its estimate of the clear canonical form from 1 round, from 16
  publications of the same model (fresh noise each) and from the last 5 training rounds (the
  model moves between them), the accuracy of its 16-publication estimate, and the error of its
  reading of the last round's update (the MO's step) relative to the update's norm.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidsl.ml import model_recovery as mr  # noqa: E402
from omnidsl.ml.federated import DigitsSource  # noqa: E402
from omnidsl.ml.rules import NormCosineRule  # noqa: E402

SIGMAS = (0.0, 0.05, 0.1, 0.2, 0.5)
TAU, NORM_FACTOR, MIN_NORM = 0.2, 1.0, 0.01  # the market's terms (docs/results.md)


@dataclass
class Row:
    model: str
    sigma: float
    honest_acc: float
    label_flip_acc: float
    honest_refused: float  # per round, all honest
    published_acc: float
    agreement: float
    err_1: float
    err_16_same: float
    err_5_training: float
    estimate_acc: float
    err_update: float  # the DO's reading of the last round's update, relative to its norm


def _round(src: DigitsSource) -> int:
    """One round of the market's ML path; returns the honest DOs refused."""
    ref = src.reference()
    grads = src.gradients()
    rule = NormCosineRule(max_norm=NORM_FACTOR * float(np.linalg.norm(ref)), tau=TAU,
                          min_norm=MIN_NORM)
    ok = [rule.accepts(g, ref) for g in grads]
    acc = [i for i, v in enumerate(ok) if v]
    if acc:  # the aggregate the MO decodes: the 12-bit fixed point of each accepted gradient
        src.apply(np.sum([np.rint(grads[i] * 4096) / 4096 for i in acc], axis=0), len(acc))
    return sum(1 for v, m in zip(ok, src.malicious, strict=True) if not v and not m)


def _truth(src: DigitsSource) -> np.ndarray:
    """The clear canonical form in the hidden order of the round just published."""
    assert src.perturbation is not None
    return mr.canonical(src.model, src.perturbation.perturb(src.model, src.params))


def one(model: str, sigma: float, seed: int, rounds: int) -> Row:
    src = DigitsSource(8, 0, "mixed", model_name=model, tau=TAU, norm_factor=NORM_FACTOR,
                       seed=seed, model_noise=sigma)
    refused = 0
    recent: list[np.ndarray] = []
    prev = src.params
    for _ in range(rounds):
        prev = src.params
        refused += _round(src)
        recent = [*recent, src.published.copy()][-5:]
    prev_pert = src.perturbation
    assert prev_pert is not None
    honest_acc = src.accuracy()
    # the DO's view after training: the last 5 rounds' models (aligned to the last one) ...
    before = src.params
    src.reference()  # measure against a fresh publication of the final model
    last = src.published.copy()
    truth = _truth(src)
    training = mr.estimate(src.model, [last, *recent[1:]])
    # the last round's update as the DO reads it off its two last models
    anchor = mr.canonical(src.model, recent[-1])
    seen = mr.align(src.model, mr.canonical(src.model, last), anchor) - anchor
    update = mr.canonical(src.model, prev_pert.perturb(src.model, before)) \
        - mr.canonical(src.model, prev_pert.perturb(src.model, prev))
    err_update = float(np.linalg.norm(seen - update) / np.linalg.norm(update))
    X, y = src.test.X, src.test.y
    agreement = float(np.mean(src.model.logits(last, X).argmax(1)
                              == src.model.logits(before, X).argmax(1)))
    pubs = [last]
    for _ in range(15):  # ... and 16 publications of the same model
        src.reference()
        pubs.append(src.published.copy())
    est16 = mr.estimate(src.model, pubs)
    flip = DigitsSource(8, 3, "label_flip", model_name=model, tau=TAU, norm_factor=NORM_FACTOR,
                        seed=seed, model_noise=sigma)
    for _ in range(rounds):
        _round(flip)
    return Row(model, sigma, honest_acc, flip.accuracy(), refused / rounds,
               src.model.accuracy(last, X, y), agreement,
               mr.relative_error(src.model, mr.canonical(src.model, last), truth, before),
               mr.relative_error(src.model, est16, truth, before),
               mr.relative_error(src.model, training, truth, before),
               src.model.accuracy(est16, X, y), err_update)


def sweep(models: list[str], sigmas: list[float], seeds: int, rounds: int) -> list[Row]:
    rows = []
    for model in models:
        for sigma in sigmas:
            runs = [one(model, sigma, seed, rounds) for seed in range(1, seeds + 1)]
            mean = {k: float(np.mean([asdict(r)[k] for r in runs]))
                    for k in asdict(runs[0]) if k not in ("model", "sigma")}
            rows.append(Row(model, sigma, **mean))
            print(f"{model} σ={sigma}: {mean}", file=sys.stderr, flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    base = {r.model: r.honest_acc for r in rows if r.sigma == 0}
    lines = ["| model | σ | honest-only acc. (cost) | label flip acc. | honest refused / round "
             "| published model acc. (agrees with clear) | DO's error × spread: 1 round | 16 "
             "publications | last 5 training rounds | DO's 16-publication estimate acc. | DO's "
             "error on the last update (× its norm) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cost = 100 * (base.get(r.model, r.honest_acc) - r.honest_acc)
        lines.append(f"| {r.model} | {r.sigma:g} | {r.honest_acc:.3f} ({cost:+.1f} pts) | "
                     f"{r.label_flip_acc:.3f} | {r.honest_refused:.2f} | {r.published_acc:.3f} "
                     f"({100 * r.agreement:.1f} %) | {r.err_1:.3f} | {r.err_16_same:.3f} | "
                     f"{r.err_5_training:.3f} | {r.estimate_acc:.3f} | {r.err_update:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--models", default="logreg,mlp")
    ap.add_argument("--sigmas", default=",".join(f"{s:g}" for s in SIGMAS))
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args(argv)
    rows = sweep(args.models.split(","), [float(s) for s in args.sigmas.split(",")], args.seeds,
                 args.rounds)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
