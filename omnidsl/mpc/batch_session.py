"""The per-slot batch session of ``omnidsl serve --bind-dir`` (docs/mpc.md, "Batch sessions";
docs/market.md, "One proof per batch").

Two session kinds beside the ordinary one, over the same handshake, ``open`` frame and limits:

* ``slot`` — one data owner Shamir-deals the private wires of *its own* rule witness (its slot
  of a batch) to this server, under the bind label its aggregation share is pinned under
  (``binding.write_pin``), with the slot's public signals and the digest of the pin (which only
  the DO that dealt the committed share and this server know: that authenticates the DO, as the
  fixed share does in a bound session).  The server checks sizes, the pin and its public wires,
  keeps the slot (:class:`SlotStore`) and answers at once.
* ``batch`` — anyone (the market's coordinating server) names the batch proving key, the rule's
  key, k, the slots' labels (empty: padding), the batch's public values, the clear public padding
  witness and a receipt label.  Each server takes the slots it holds, composes its share of the
  batch witness (:func:`compose_shares`), checks every slot against the aggregation share it
  committed to (``batch_binding.check``, one opening per slot: the failing slots are named), then
  proves with the ordinary Shamir driver and writes a receipt under the receipt label.

A slot is used by at most one batch that passes the binding check (then dropped): two proofs
that mix the same dealt shares with different other slots would share the blinding r, s.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from omnidsl.errors import FormatError, InputError, ProofError
from omnidsl.field import FR_BYTES, R, limbs_to_bytes
from omnidsl.mpc import codec
from omnidsl.mpc.batch_binding import BindingFailed, check
from omnidsl.mpc.batch_system import BatchSystem, compose
from omnidsl.mpc.binding import read_pin, safe_label
from omnidsl.mpc.messages import SEAL_OVERHEAD
from omnidsl.mpc.schemes.shamir import dealer, wire
from omnidsl.mpc.schemes.shamir.dealer import ShamirMaterial, ShamirShares, deal

SLOT_KIND = "slot"
BATCH_KIND = "batch"
#: slots a server keeps at once (oldest dropped first) and for how long (seconds)
SLOT_CAPACITY = 1024
SLOT_TTL_S = 3600.0
ROOT_DOMAIN = b"omnidsl-market-batch-root/v1"


class SlotsMissing(ProofError):
    """A batch names slots this server does not hold (or may not use); ``labels``: whose."""

    def __init__(self, message: str, labels: list[str], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.culprits = labels


def batch_threshold(scheme: str, params: dict[str, Any], n: int) -> int:
    """The Shamir threshold of batch sessions: servers.toml's if its scheme is Shamir, else the
    largest t with 2t + 1 ≤ N."""
    if scheme == dealer.SCHEME:
        return int(params.get("threshold", 1))
    return dealer.max_threshold(n)


def slot_shape(rule_pk: Any) -> SimpleNamespace:
    """What a slot dealing's sizes are checked against: wire 0 and the rule's private wires."""
    return SimpleNamespace(n_wires=rule_pk.n_wires - rule_pk.n_public, n_public=0)


def deal_slot(rule_witness: np.ndarray, n_rule_public: int, n_parties: int, threshold: int,
              backend: Any, session_id: bytes | None = None) -> list[ShamirMaterial]:
    """DO's side: Shamir-deal wire 0 and the private wires of its rule witness (limbs);
    ``n_rule_public`` = the rule's public signals (wires 1..n are public, not dealt)."""
    w = limbs_to_bytes(np.asarray(rule_witness, np.uint64))
    priv = w[(1 + n_rule_public) * FR_BYTES:]
    return deal(backend, w[:FR_BYTES] + priv, 1, n_parties, threshold, session_id=session_id)


def compose_shares(system: BatchSystem, public: list[int], slots: list[ShamirShares | None],
                   padding: np.ndarray | bytes | None) -> ShamirShares:
    """One server's share of the batch witness from the slots' expanded shares (None: padding,
    whose clear rule witness ``padding`` every server knows): public wires hold their values,
    slot j's private wires are DO j's shares, r, s, the check mask and ζ are the sums of every
    DO's, the root hashes the public values and every DO's root."""
    lay = system.layout
    if len(slots) != lay.k or len(public) != lay.n_public:
        raise InputError(f"a batch of {lay.k} needs {lay.k} slots and {lay.n_public} public "
                         "values")
    dealt = [s for s in slots if s is not None]
    if not dealt:
        raise InputError("a batch needs at least one dealt slot")
    n_rule = system.maps.shape[1]
    n_pub = 1 + lay.rule_public
    out = np.zeros((system.r1cs.n_wires, 32), np.uint8)
    pub = b"".join(int(v).to_bytes(FR_BYTES, "little") for v in (1, *public))
    out[:1 + lay.n_public] = np.frombuffer(pub, np.uint8).reshape(-1, 32)
    pad = None
    if padding is not None:
        raw = padding if isinstance(padding, bytes) else \
            limbs_to_bytes(np.asarray(padding, np.uint64))
        pad = np.frombuffer(raw, np.uint8).reshape(-1, 32)
    for j, sh in enumerate(slots):
        where = system.maps[j][n_pub:]
        if sh is None:
            if pad is None or pad.shape[0] != n_rule:
                raise InputError(f"slot {j} is padding but no padding witness was given")
            out[where] = pad[n_pub:]
            continue
        vals = np.frombuffer(sh.witness, np.uint8).reshape(-1, 32)
        if vals.shape[0] != 1 + n_rule - n_pub:
            raise InputError(f"slot {j}: a dealing of {vals.shape[0] - 1} private wires, the "
                             f"rule has {n_rule - n_pub}")
        out[where] = vals[1:]
    r, s, m, z = (sum(getattr(sh, f) for sh in dealt) % R for f in ("r", "s", "mask", "zero"))
    root = hashlib.sha256(ROOT_DOMAIN + pub + b"".join(sh.root for sh in dealt)).digest()
    return ShamirShares(out.tobytes(), r, s, m, z, 1 + lay.n_public, root)


def _ints(buf: bytes, n: int, what: str) -> list[int]:
    if len(buf) != FR_BYTES * n:
        raise FormatError(f"{what}: {len(buf)} bytes, expected {FR_BYTES * n}")
    vals = [int.from_bytes(buf[i * FR_BYTES:(i + 1) * FR_BYTES], "little") for i in range(n)]
    if any(v >= R for v in vals):
        raise FormatError(f"{what}: a value is not a field element")
    return vals


def encode_ints(vals: list[int]) -> bytes:
    return b"".join(int(v).to_bytes(FR_BYTES, "little") for v in vals)


@dataclass
class Slot:
    """A dealt slot a server holds."""

    material: ShamirMaterial
    public: list[int]  # the rule's public signals (circom order)
    rule_digest: str
    at: float


class SlotStore:
    """Slots by bind label: at most ``capacity``, each for ``ttl`` seconds; a new dealing under
    a label replaces the old one."""

    def __init__(self, capacity: int = SLOT_CAPACITY, ttl: float = SLOT_TTL_S):
        self.capacity, self.ttl = capacity, ttl
        self._slots: OrderedDict[str, Slot] = OrderedDict()

    def _expire(self) -> None:
        now = time.monotonic()
        while self._slots and (len(self._slots) > self.capacity
                               or next(iter(self._slots.values())).at + self.ttl <= now):
            self._slots.popitem(last=False)

    def put(self, label: str, slot: Slot) -> None:
        self._slots.pop(label, None)
        self._slots[label] = slot
        self._expire()

    def get(self, label: str) -> Slot | None:
        self._expire()
        return self._slots.get(label)

    def drop(self, labels: list[str]) -> None:
        for label in labels:
            self._slots.pop(label, None)

    def __len__(self) -> int:
        return len(self._slots)


def accept_slot(store: SlotStore, bind_dir: Path | None, msg: dict[str, codec.Value],
                rule_pk: Any, digest: str, n: int, t: int, sid: int,
                session_id: bytes) -> dict[str, codec.Value]:
    """A ``slot`` message: check it against the pin of its label and keep it."""
    if bind_dir is None:
        raise ProofError(f"server {sid} runs no batch sessions (it was started without "
                         "--bind-dir)")
    m = wire.parse_material(msg, slot_shape(rule_pk), n, t, sid)
    if m.session_id != session_id:
        raise FormatError("the slot names another session than its opening")
    if m.bind_label is None:
        raise ProofError(f"server {sid} refuses the slot: it names no bind label")
    label = safe_label(m.bind_label)
    public = _ints(codec.need(msg, "slot_public", bytes), rule_pk.n_public, "slot_public")
    pin = read_pin(bind_dir, label)
    if pin is None:
        raise ProofError(f"server {sid} refuses the slot {label}: it committed to no share "
                         "under that label")
    if codec.need(msg, "pin_digest", bytes) != pin.digest:
        raise ProofError(f"server {sid} refuses the slot {label}: the data owner does not "
                         "know the share this server committed to (pin digest differs)")
    for w, v in pin.public.items():
        if not 1 <= w <= len(public) or public[w - 1] != v:
            raise ProofError(f"server {sid} refuses the slot {label}: public wire {w} is not "
                             f"{v}, the value its commitment was made for")
    store.put(label, Slot(m, public, digest, time.monotonic()))
    return {"kind": "result", "ok": True, "slot": label}


@dataclass
class BatchRequest:
    """A parsed ``batch`` message (sizes checked against the keys it names)."""

    rule_digest: str
    k: int
    fp_index: int
    owner_index: int
    labels: list[str]  # "" = padding
    public: list[int]
    padding: bytes | None
    receipt: str


def parse_batch(msg: dict[str, codec.Value], batch_pk: Any, rule_pk: Any,
                session_id: bytes) -> BatchRequest:
    if codec.need(msg, "session_id", bytes) != session_id:
        raise FormatError("the batch names another session than its opening")
    k = codec.need(msg, "k", int)
    labels = codec.need(msg, "labels", str).split(",")
    if not 1 <= k <= 4096 or len(labels) != k:
        raise FormatError(f"a batch of {k} slots names {len(labels)} labels")
    for lab in labels:
        if lab:
            safe_label(lab)
    if len(set(filter(None, labels))) != len([x for x in labels if x]):
        raise FormatError("a label appears twice in the batch")
    pad = msg.get("padding")
    if pad is not None and (not isinstance(pad, bytes)
                            or len(pad) != FR_BYTES * rule_pk.n_wires):
        raise FormatError(f"the padding witness must be {FR_BYTES * rule_pk.n_wires} bytes")
    if pad is not None:
        _ints(pad, rule_pk.n_wires, "padding")
    req = BatchRequest(codec.need(msg, "rule_digest", str), k, codec.need(msg, "fp_index", int),
                       codec.need(msg, "owner_index", int), labels,
                       _ints(codec.need(msg, "public", bytes), batch_pk.n_public, "public"),
                       pad, safe_label(codec.need(msg, "receipt", str)))
    if "" in labels and pad is None:
        raise FormatError("the batch has padding slots but no padding witness")
    return req


class Systems:
    """Composed batch systems by (rule key, batch key, indices), each checked once to be the
    batch key's system."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int, int, int], BatchSystem] = {}

    def get(self, req: BatchRequest, rule_pk: Any, batch_pk: Any, batch_digest: str
            ) -> BatchSystem:
        key = (req.rule_digest, batch_digest, req.k, req.fp_index, req.owner_index)
        if key not in self._cache:
            try:
                system = compose(rule_pk.r1cs, req.fp_index, req.owner_index, req.k)
            except InputError as exc:
                raise FormatError(f"bad batch: {exc.message}") from None
            a, b = system.r1cs, batch_pk.r1cs
            same = a.n_wires == b.n_wires and a.n_public == b.n_public and all(
                np.array_equal(np.asarray(getattr(getattr(a, x), f)),
                               np.asarray(getattr(getattr(b, x), f)))
                for x in ("A", "B", "C") for f in ("row_ptr", "wire", "coeff_id")) \
                and list(a.coeffs) == list(b.coeffs)
            if not same:
                raise ProofError(f"the batch proving key is not the rule's batch statement for "
                                 f"k = {req.k}")
            self._cache[key] = system
        return self._cache[key]


def check_slots(store: SlotStore, bind_dir: Path, req: BatchRequest, system: BatchSystem,
                t: int, sid: int) -> tuple[list[Slot | None], list[list[int]], list[np.ndarray]]:
    """The slots of ``req`` this server holds, its committed share of each real slot and the
    batch wires each is bound to; SlotsMissing naming the slots it cannot use."""
    lay = system.layout
    slots: list[Slot | None] = []
    committed: list[list[int]] = []
    bound: list[np.ndarray] = []
    missing: list[str] = []
    why: list[str] = []
    for j, label in enumerate(req.labels):
        owner = req.public[lay.k + j]
        if not label:
            if owner != 0:
                raise FormatError(f"padding slot {j} names owner {owner:#x}, not 0")
            slots.append(None)
            continue
        slot, pin = store.get(label), read_pin(bind_dir, label)
        if slot is None or pin is None or slot.rule_digest != req.rule_digest \
                or slot.material.threshold != t:
            missing.append(label)
            why.append(f"slot {j} ({label}): " + (
                "no committed share" if pin is None else "not dealt to this server" if
                slot is None else "dealt for another rule key or threshold"))
            slots.append(None)
            continue
        expect = [req.public[j] if i == lay.fp_index else owner if i == lay.owner_index
                  else req.public[2 * lay.k + lay.shared.index(i)]
                  for i in range(lay.rule_public)]
        if slot.public != expect:
            missing.append(label)
            why.append(f"slot {j} ({label}): the batch's public values (fingerprint, owner, ρ "
                       "or a pin) are not the dealt slot's")
            slots.append(None)
            continue
        slots.append(slot)
        committed.append(pin.share)
        bound.append(system.maps[j][np.asarray(pin.wires, np.int64)])
    if missing:
        raise SlotsMissing(f"server {sid} cannot use every slot: {'; '.join(why)}", missing,
                           hint="run the batch without these data owners")
    return slots, committed, bound


def prove_batch(net: Any, pk: Any, system: BatchSystem, req: BatchRequest,
                slots: list[Slot | None], committed: list[list[int]], bound: list[np.ndarray],
                t: int, backend: Any, wait_s: float, consume: Any) -> Any:
    """(Prover thread) compose, check the binding, prove; ``consume()`` once the binding holds.
    BindingFailed/SlotsMissing name the failing slots' labels (``culprits``)."""
    from omnidsl.groth16.prover import prove
    from omnidsl.mpc.schemes.shamir.driver import ShamirDriver

    mine = [None if s is None else dealer.expand(s.material, backend) for s in slots]
    shares = compose_shares(system, req.public, mine, req.padding)
    w = shares.witness
    dealt = [[int.from_bytes(w[32 * int(x):32 * int(x) + 32], "little") for x in b]
             for b in bound]
    real = [lab for lab in req.labels if lab]
    try:
        check(net, t, committed, dealt, shares.root)
    except BindingFailed as exc:
        exc.culprits = [real[j] for j in exc.slots]  # type: ignore[attr-defined]
        raise
    consume()
    drv = ShamirDriver(net.party_id, net.n_parties, t, net, shares, backend, wait_s)
    drv.check_consistency()
    return prove(pk, drv, backend)


def peer_frame_limit(req: BatchRequest, bound: list[np.ndarray]) -> int:
    """A frame of the binding check: every bound entry and one zero sharing per slot, a seed
    commitment."""
    return FR_BYTES * (sum(len(b) for b in bound) + req.k) + 32 + SEAL_OVERHEAD + 1024


def receipt_public(req: BatchRequest) -> list[int]:
    return list(req.public)


def dump_culprits(exc: BaseException) -> str | None:
    c = getattr(exc, "culprits", None)
    return None if c is None else json.dumps(c)


__all__ = ["BATCH_KIND", "SLOT_KIND", "BatchRequest", "SlotStore", "SlotsMissing",
           "accept_slot", "batch_threshold", "check_slots", "compose_shares", "deal_slot",
           "parse_batch", "prove_batch"]
