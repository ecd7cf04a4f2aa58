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
from omnidsl.ml.privacy import IsometricPerturbation  # noqa: E402
from omnidsl.ml.rules import NormCosineRule  # noqa: E402

SIGMAS = (0.0, 0.05, 0.1, 0.2, 0.5)
TAU, NORM_FACTOR, MIN_NORM = 0.2, 1.0, 0.01  # the market's terms (docs/results.md)


@dataclass
class Row:
    model: str
    sigma: float
    honest_acc: float
    cost_pts: float  # honest-only accuracy below σ = 0's, same seeds (points)
    cost_se: float
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


Round = tuple[np.ndarray, np.ndarray, IsometricPerturbation]  # published, clear θ, secret


def _update_error(src: DigitsSource, history: list[Round], last: np.ndarray) -> float:
    """The DO's reading of the MO's last non-zero update off two consecutive published models,
    relative to the update's norm (nan if the model never moved).  ``history``: per round, the
    published model, the clear model it was made from and the round's perturbation; ``last``:
    the next publication (of ``src.params``)."""
    pubs = [h[0] for h in history] + [last]
    clear = [h[1] for h in history] + [src.params]
    for t in range(len(history) - 1, -1, -1):
        if np.any(clear[t + 1] != clear[t]):
            anchor = mr.canonical(src.model, pubs[t])
            seen = mr.align(src.model, mr.canonical(src.model, pubs[t + 1]), anchor) - anchor
            pert = history[t][2]  # the true update in round t's coordinates
            true = mr.canonical(src.model, pert.perturb(src.model, clear[t + 1])) \
                - mr.canonical(src.model, pert.perturb(src.model, clear[t]))
            return float(np.linalg.norm(seen - true) / np.linalg.norm(true))
    return float("nan")


def one(model: str, sigma: float, seed: int, rounds: int) -> Row:
    src = DigitsSource(8, 0, "mixed", model_name=model, tau=TAU, norm_factor=NORM_FACTOR,
                       seed=seed, model_noise=sigma)
    refused = 0
    history: list[Round] = []
    for _ in range(rounds):
        before_round = src.params
        refused += _round(src)
        assert src.perturbation is not None
        history.append((src.published.copy(), before_round, src.perturbation))
    honest_acc = src.accuracy()
    # the DO's view after training: the last 5 rounds' models (aligned to the last one) ...
    final = src.params
    src.reference()  # measure against a fresh publication of the final model
    last = src.published.copy()
    truth = _truth(src)
    training = mr.estimate(src.model, [last, *[h[0] for h in history[-4:]]])
    err_update = _update_error(src, history, last)
    X, y = src.test.X, src.test.y
    agreement = float(np.mean(src.model.logits(last, X).argmax(1)
                              == src.model.logits(final, X).argmax(1)))
    pubs = [last]
    for _ in range(15):  # ... and 16 publications of the same model
        src.reference()
        pubs.append(src.published.copy())
    est16 = mr.estimate(src.model, pubs)
    flip = DigitsSource(8, 3, "label_flip", model_name=model, tau=TAU, norm_factor=NORM_FACTOR,
                        seed=seed, model_noise=sigma)
    for _ in range(rounds):
        _round(flip)
    return Row(model, sigma, honest_acc, 0.0, 0.0, flip.accuracy(), refused / rounds,
               src.model.accuracy(last, X, y), agreement,
               mr.relative_error(src.model, mr.canonical(src.model, last), truth, final),
               mr.relative_error(src.model, est16, truth, final),
               mr.relative_error(src.model, training, truth, final),
               src.model.accuracy(est16, X, y), err_update)


def sweep(models: list[str], sigmas: list[float], seeds: int, rounds: int) -> list[Row]:
    """Mean over the seeds; the cost is paired by seed (same data split and initialisation)
    against σ = 0, with its standard error."""
    rows = []
    for model in models:
        base = [one(model, 0.0, seed, rounds).honest_acc for seed in range(1, seeds + 1)]
        for sigma in sigmas:
            runs = [one(model, sigma, seed, rounds) for seed in range(1, seeds + 1)]
            mean = {k: float(np.nanmean([asdict(r)[k] for r in runs]))
                    for k in asdict(runs[0]) if k not in ("model", "sigma")}
            cost = 100 * (np.array(base) - [r.honest_acc for r in runs])
            mean["cost_pts"] = float(np.mean(cost))
            mean["cost_se"] = float(np.std(cost, ddof=1) / np.sqrt(seeds)) if seeds > 1 else 0.0
            rows.append(Row(model, sigma, **mean))
            print(f"{model} σ={sigma}: {mean}", file=sys.stderr, flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    lines = ["| model | σ | honest-only acc. | cost (pts, ± s.e.) | label flip acc. | honest "
             "refused / round | published model acc. (agrees with clear) | DO's error × spread: "
             "1 round | 16 publications | last 5 training rounds | DO's 16-publication estimate "
             "acc. | DO's error on the last update (× its norm) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.model} | {r.sigma:g} | {r.honest_acc:.3f} | {r.cost_pts:+.1f} ± "
                     f"{r.cost_se:.1f} | {r.label_flip_acc:.3f} | {r.honest_refused:.2f} | "
                     f"{r.published_acc:.3f} ({100 * r.agreement:.1f} %) | {r.err_1:.3f} | "
                     f"{r.err_16_same:.3f} | {r.err_5_training:.3f} | {r.estimate_acc:.3f} | "
                     f"{r.err_update:.2f} |")
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
