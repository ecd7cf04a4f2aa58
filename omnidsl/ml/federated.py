"""The ML side of a market round, with model privacy in the loop (``market demo``'s source).

Per round the model owner (MO) draws a fresh secret :class:`~omnidsl.ml.privacy.IsometricPerturbation`
and publishes only the perturbed parameters; every data owner (DO) computes its gradient on that
published model (malicious ones attack); the MO computes its reference gradient on the *same*
published model from its clean root set (FLTrust), so the rule compares like with like; the MO
maps the decoded aggregate back to its clear coordinates (a permutation of entries) and takes an
SGD step.  The clear parameters never leave :attr:`DigitsSource.params` (docs/privacy.md).

With ``model_noise`` σ > 0 the MO publishes perturb(θ + n) instead, n fresh Gaussian noise per
round (σ × each layer's weight spread, :func:`~omnidsl.ml.privacy.publication_noise`): the
reference and every DO's gradient are taken at that same published point, and the mapped-back
aggregate (gradients at θ + n) is applied to the clear θ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omnidsl.errors import InputError
from omnidsl.ml.attacks import (
    Attack,
    adaptive,
    cosine_adaptive,
    gaussian_noise,
    label_flip,
    scaling,
    sign_flip,
)
from omnidsl.ml.data import load_digits_split, partition
from omnidsl.ml.models import MODEL_CHOICES, Model, build_model
from omnidsl.ml.privacy import IsometricPerturbation, check_noise, publication_noise
from omnidsl.ml.training import Owner, root_reference

#: ``market demo --attack`` values; ``mixed`` cycles through scaling, noise, sign flip, label flip
ATTACKS = ("mixed", "sign_flip", "scaling", "gaussian_noise", "label_flip", "adaptive",
           "adaptive_cosine")
MODELS = tuple(MODEL_CHOICES)


def attack_catalogue() -> dict[str, Attack]:
    """Every attack of the project by name.  The two adaptive ones are computed by the source
    from the round's public terms: ``adaptive`` knows the L2 bound (attacks.adaptive: the
    reversed update just inside it), ``adaptive_cosine`` also the published reference and τ
    (attacks.cosine_adaptive: the most harmful update the cosine rule accepts)."""
    return {"scaling": Attack("scaling", gradient=scaling(10.0)),
            "gaussian_noise": Attack("gaussian_noise", gradient=gaussian_noise(0.5)),
            "sign_flip": Attack("sign_flip", gradient=sign_flip),
            "label_flip": Attack("label_flip", poison=label_flip),
            "adaptive": Attack("adaptive"),
            "adaptive_cosine": Attack("adaptive_cosine")}


@dataclass
class DigitsSource:
    """scikit-learn digits; softmax regression (650 parameters) or the 64-``hidden``-10 MLP
    (7,510 parameters at 100); ``private``: DOs see only the round's perturbed model;
    ``model_noise`` σ: the published model is perturb(θ + n), n ~ N(0, (σ·layer spread)²)
    fresh per round (0: no noise, the default; docs/privacy.md).

    ``tau`` and ``norm_factor`` are the task's public terms, which an adaptive attacker knows.
    """

    owners: int = 8
    n_malicious: int = 3
    attack: str = "mixed"
    lr: float | None = None  # default: 1.0 (logreg), 0.5 (mlp)
    seed: int = 1
    model_name: str = "logreg"
    hidden: int = 100
    private: bool = True
    tau: float = 0.3
    norm_factor: float = 3.0
    root_size: int = 100
    #: honest DOs rescale their gradient to ``fit``·‖ref‖ (FLTrust's normalisation, done by
    #: the DO: the reference is published); None: send the raw gradient
    fit: float | None = 0.99
    model_noise: float = 0.0
    malicious: list[bool] = field(init=False)
    n_params: int = field(init=False)

    def __post_init__(self) -> None:
        catalogue = attack_catalogue()
        self.model_noise = check_noise(self.model_noise)
        if self.attack not in ATTACKS:
            raise InputError(f"unknown attack {self.attack!r}", hint="choose " + ", ".join(ATTACKS))
        if self.model_name not in MODELS:
            raise InputError(f"unknown model {self.model_name!r}", hint="choose " + ", ".join(MODELS))
        order = list(catalogue.values())[:4] if self.attack == "mixed" \
            else [catalogue[self.attack]]
        train, self.test = load_digits_split(seed=self.seed)
        shards, root = partition(train, self.owners, seed=self.seed, root_size=self.root_size)
        assert root is not None
        self.root = root
        self.owner_list = [Owner(s, order[i % len(order)] if i < self.n_malicious else None)
                           for i, s in enumerate(shards)]
        self.malicious = [o.malicious for o in self.owner_list]
        self.model: Model = build_model(self.model_name, hidden=self.hidden
                                        if self.model_name == "mlp" else None)
        if self.lr is None:
            self.lr = 0.5 if self.model_name.startswith("mlp") else 1.0
        self.rng = np.random.default_rng(self.seed)
        self.params = self.model.init(self.rng)  # the MO's clear model: never published
        self.n_params = self.model.n_params
        self.perturbation: IsometricPerturbation | None = None
        self.published = self.params  # what the DOs hold this round
        self.noise = np.zeros(self.n_params)  # the round's noise (the MO's secret)
        self.ref = np.zeros(self.n_params)

    # ---- the model owner
    def reference(self) -> np.ndarray:
        """Start a round: publish a freshly perturbed (and, with ``model_noise``, noisy) model
        and return the MO's reference gradient on it (root set)."""
        self.noise = publication_noise(self.model, self.params, self.model_noise) \
            if self.model_noise > 0 else np.zeros(self.n_params)
        point = self.params + self.noise  # where every gradient of the round is taken
        self.perturbation = IsometricPerturbation.fresh(self.model) if self.private else None
        self.published = point if self.perturbation is None \
            else self.perturbation.perturb(self.model, point)
        self.ref = root_reference(self.model, self.published, self.root)  # FLTrust
        return self.ref

    def apply(self, aggregate: np.ndarray, n_accepted: int) -> None:
        """Map the decoded sum of the accepted gradients back and take the step from the clear
        model (with noise: gradients at θ + n applied to θ)."""
        if not n_accepted:
            return
        clear = aggregate if self.perturbation is None \
            else self.perturbation.recover_gradient(self.model, aggregate)
        assert self.lr is not None
        self.params = self.params - self.lr * clear / n_accepted

    def accuracy(self) -> float:
        return float(self.model.accuracy(self.params, self.test.X, self.test.y))

    # ---- the data owners (they use only self.published, self.ref and the public terms)
    def gradients(self) -> list[np.ndarray]:
        """Each DO's gradient on the published model (attacks applied)."""
        return [self.owner_gradient(i) for i in range(len(self.owner_list))]

    def owner_gradient(self, i: int) -> np.ndarray:
        owner = self.owner_list[i]
        g = self.model.loss_and_grad(self.published, owner.data.X, owner.data.y)[1]
        gn, rn = float(np.linalg.norm(g)), float(np.linalg.norm(self.ref))
        if self.fit is not None and gn > 0:
            g = g * (self.fit * rn / gn)
        if owner.attack is not None and owner.attack.gradient is not None:
            g = owner.attack.gradient(g, self.rng)
        name = owner.attack.name if owner.attack is not None else ""
        if name == "adaptive":
            g = adaptive(self.norm_factor * rn)(g, self.rng)
        elif name == "adaptive_cosine":
            g = cosine_adaptive(g, self.ref, self.tau, self.norm_factor * rn)
        return g
