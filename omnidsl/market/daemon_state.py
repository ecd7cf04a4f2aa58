"""A market server's state on disk, so ``market server run`` survives a restart.

One file per task, ``DIR/task-<id>.json`` (mode 600, written atomically): the shares held (data
owner → entries), the commitment salt and the challenge seed (secrets: whoever reads them can
open the commitment and reveal early), and how far the task went.  It is written *before* the
transaction it prepares (the salt and seed before the commitment), so a crash never leaves an
on-chain commitment this server cannot open or reveal.  Removed when the task is forgotten.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from omnidsl.errors import FormatError

log = logging.getLogger(__name__)

#: the TaskState flags kept across restarts
FLAGS = ("committed", "revealed", "submitted", "delivered", "delivering")


def task_path(directory: Path, task_id: int) -> Path:
    return Path(directory) / f"task-{task_id}.json"


def save(directory: Path, task_id: int, server: Any, state: Any) -> None:
    """Write what ``server`` (a roles.Server) holds of ``task_id`` and ``state``'s flags."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"task": task_id, "server": server.account,
            "shares": {o: [str(v) for v in vec]
                       for o, vec in server.shares.get(task_id, {}).items()},
            "salt": server.salts[task_id].hex() if task_id in server.salts else None,
            "seed": server.seeds[task_id].hex() if task_id in server.seeds else None,
            "flags": {k: bool(getattr(state, k)) for k in FLAGS}}
    out = task_path(d, task_id)
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, out)


def forget(directory: Path, task_id: int) -> None:
    task_path(directory, task_id).unlink(missing_ok=True)


def load(directory: Path, server: Any, new_state: Any) -> dict[int, Any]:
    """Restore every saved task into ``server``; returns task id → a TaskState built by
    ``new_state()`` with the saved flags.  FormatError naming a file that does not parse or
    belongs to another server account."""
    out: dict[int, Any] = {}
    d = Path(directory)
    if not d.is_dir():
        return out
    names = {f.name for f in fields(new_state())}
    for path in sorted(d.glob("task-*.json")):
        try:
            data = json.loads(path.read_text())
            task_id = int(data["task"])
            if str(data["server"]).lower() != str(server.account).lower():
                raise FormatError(f"{path}: the state of server {data['server']}, not of "
                                  f"{server.account}", hint="give each server its own --state")
            server.shares[task_id] = {str(o): [int(v) for v in vec]
                                      for o, vec in dict(data["shares"]).items()}
            if data.get("salt"):
                server.salts[task_id] = bytes.fromhex(data["salt"])
            if data.get("seed"):
                server.seeds[task_id] = bytes.fromhex(data["seed"])
            st = new_state()
            for k, v in dict(data["flags"]).items():
                if k in names:
                    setattr(st, k, bool(v))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FormatError(f"{path}: not a market server's task state ({exc})") from None
        out[task_id] = st
        log.info("task %d: state restored (%d shares held)", task_id,
                 len(server.shares[task_id]))
    return out
