"""The round's model, pinned by the task: every data owner trains on the same model.

A model owner (MO) that hands different data owners (DOs) different models can read one DO's
gradient out of the aggregate (docs/privacy.md, "A malicious model owner").  So the MO publishes a
digest of the round's published (perturbed) model with the task, through the same on-chain
publication as a committed reference (``Market.publishReference``) under the reserved pin index
:data:`MODEL_PIN`, and every DO checks the model it received against it before it shares or
proves (:func:`check_model`; :class:`ModelMismatch` otherwise).

Format (docs/market.md, "Pinning the round's model"):
``digest = SHA-256("omnidsl-model-v1" ‖ 0x00 ‖ uint32_be(n) ‖ n × float64_be)`` over the flat
parameter vector; the publication's ``data`` is the 32-byte digest, so its
``ReferencePublished`` event carries ``keccak256(digest)``.  The DO reads the events (not the
calldata, so a publication made through another contract counts too): the task must carry at
least one model publication, all of them with the same hash, equal to ``keccak256`` of the digest
of the DO's model.  A task with two different model publications is refused by every DO.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.errors import InputError
from omnidsl.market.vector_files import read_vector

log = logging.getLogger(__name__)

#: the pin index reserved for the round's model (a pinned public input's index is < nPublic)
MODEL_PIN = 0xFFFFFFFF
MODEL_TAG = b"omnidsl-model-v1\x00"


class ModelMismatch(InputError):
    """The model a data owner holds is not the one the task pins: it does not train or prove."""


def model_digest(params: Any) -> bytes:
    """SHA-256 of the flat parameter vector in the documented format (InputError if it is not a
    finite 1-D vector)."""
    arr = np.asarray(params, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise InputError(f"a model is a finite 1-D parameter vector, got shape {arr.shape}")
    body = arr.astype(">f8").tobytes()
    return hashlib.sha256(MODEL_TAG + len(arr).to_bytes(4, "big") + body).digest()


def publication_hash(params: Any) -> bytes:
    """What the task's ``ReferencePublished`` event carries for ``params``: keccak256(digest)."""
    return bytes(Web3.keccak(model_digest(params)))


def publish_model(market: Any, task_id: int, params: Any, sender: str) -> int:
    """The MO pins ``params`` (the round's published model) for ``task_id``; returns the gas."""
    gas = int(market.publish_reference(task_id, MODEL_PIN, model_digest(params), sender).gas_used)
    log.info("task %d: pinned the round's model (%d parameters) for %d gas", task_id,
             np.asarray(params).size, gas)
    return gas


def pinned_hashes(market: Any, task_id: int) -> list[bytes]:
    """The hashes of every model publication of ``task_id``, oldest first."""
    logs = market.contract.events.ReferencePublished().get_logs(
        from_block=0, argument_filters={"taskId": task_id, "pinIndex": MODEL_PIN})
    return [bytes(entry["args"]["dataHash"]) for entry in logs]


def verify_model(params: Any, hashes: Sequence[bytes], task_id: int) -> None:
    """:class:`ModelMismatch` unless ``hashes`` (the task's model publications) pin exactly one
    model and it is ``params``."""
    hint = ("train only on the model the task pins: a model owner that hands data owners "
            "different models can read one data owner's gradient out of the aggregate")
    distinct = sorted(set(hashes))
    if not distinct:
        raise ModelMismatch(f"task {task_id} pins no model: refusing to train or prove on an "
                            "unpinned model", hint=hint)
    if len(distinct) > 1:
        raise ModelMismatch(f"task {task_id}: the model owner pinned {len(distinct)} different "
                            "models; refusing to train or prove", hint=hint)
    mine = publication_hash(params)
    if mine != distinct[0]:
        raise ModelMismatch(
            f"task {task_id}: the model held here (sha256 {model_digest(params).hex()}, "
            f"keccak256 0x{mine.hex()}) is not the model the task pins (keccak256 "
            f"0x{distinct[0].hex()}); refusing to train or prove", hint=hint)


def check_model(market: Any, task_id: int, params: Any) -> None:
    """The DO's check before training or proving: ``params`` is the model ``task_id`` pins."""
    verify_model(params, pinned_hashes(market, task_id), task_id)


def refusal(market: Any, task_id: int, params: Any) -> str | None:
    """:func:`check_model` as a reason to refuse (None: the model is the task's)."""
    try:
        check_model(market, task_id, params)
    except ModelMismatch as exc:
        return str(exc)
    return None


def check_held(market: Any, task_id: int, params: Any | None) -> None:
    """``market do contribute``'s check: the model the DO trained on (``params``) is the one the
    task pins; without a model, :class:`ModelMismatch` if the task pins one (the DO must show
    which model it trained on), nothing to check otherwise."""
    hashes = pinned_hashes(market, task_id)
    if params is not None:
        verify_model(params, hashes, task_id)
    elif hashes:
        raise ModelMismatch(f"task {task_id} pins the round's model; give the model the gradient "
                            "was computed on", hint="market do contribute --model FILE (.npy or "
                            ".json, the parameters the model owner sent)")


def read_model(path: Path) -> np.ndarray:
    """A model file: ``.npy`` (a 1-D float array) or ``.json`` (a list of numbers, or
    ``{"params": [...]}``); InputError naming the file."""
    return read_vector(path, "model", "params")
