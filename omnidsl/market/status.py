"""What a market holds, read from the chain (``omnidsl market status``): every task (phase,
escrow, servers and what each did, accepted and refused data owners with the reason), and
payments (what each account withdrew and still has credited).  :func:`market_status` returns
plain JSON-able data; :func:`format_status` is the human table."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from omnidsl.market.client import MarketClient, Reject


def _logs(market: MarketClient, event: str, **filters: Any) -> list[Any]:
    ev = getattr(market.contract.events, event)()
    return list(ev.get_logs(from_block=0, argument_filters=filters or None))


def _phase(info: Any, now: int) -> str:
    if info.settled:
        return "settled"
    if info.closed or now > info.deadline:
        return "delivering" if now <= info.deliver_by else "reclaimable"
    if info.challenge_fixed:
        return "proving"
    return "collecting" if info.n_committed == 0 else "committing"


def task_status(market: MarketClient, task_id: int, now: int) -> dict[str, Any]:
    info = market.task(task_id)
    servers = [Web3.to_checksum_address(s) for s in market.servers(task_id)]
    committed = {str(e["args"]["server"]) for e in _logs(market, "SharesCommitted",
                                                          taskId=task_id)}
    revealed = {str(e["args"]["server"]) for e in _logs(market, "SeedRevealed", taskId=task_id)}
    delivered = {str(e["args"]["server"]) for e in _logs(market, "AggregateDelivered",
                                                          taskId=task_id)}
    accepted = [str(e["args"]["dataOwner"]) for e in _logs(market, "ProofAccepted",
                                                           taskId=task_id)]
    refused = [{"data_owner": str(e["args"]["dataOwner"]),
                "reason": Reject(int(e["args"]["reason"])).name.lower()}
               for e in _logs(market, "ProofRejected", taskId=task_id)]
    checked = [bool(e["args"]["matched"]) for e in _logs(market, "AggregateChecked",
                                                          taskId=task_id)]
    return {
        "task": task_id, "owner": info.owner, "phase": _phase(info, now),
        "deadline": info.deadline, "deliver_by": info.deliver_by,
        "reward": info.reward_per_gradient, "server_fee": info.server_fee,
        "server_bond": info.server_bond, "escrow_remaining": info.remaining,
        "rule_hash": info.rule_hash.hex(),
        "servers": [{"address": s, "committed": s in committed, "revealed": s in revealed,
                     "delivered": s in delivered} for s in servers],
        "accepted": accepted, "refused": refused,
        "aggregate_checked": checked[-1] if checked else None,
    }


def market_status(market: MarketClient, task_id: int | None = None) -> dict[str, Any]:
    """Tasks (all, or one) and payments of ``market``."""
    now = int(market.w3.eth.get_block("latest")["timestamp"])
    count = int(market._call(market.contract.functions.taskCount()))
    ids = [task_id] if task_id is not None else list(range(1, count + 1))
    tasks = [task_status(market, t, now) for t in ids]
    withdrawn: dict[str, int] = {}
    for e in _logs(market, "Withdrawn"):
        a = str(e["args"]["account"])
        withdrawn[a] = withdrawn.get(a, 0) + int(e["args"]["amount"])
    people = set(withdrawn)
    for t in tasks:
        people |= {s["address"] for s in t["servers"]} | set(t["accepted"])
    payments = [{"account": a, "withdrawn": withdrawn.get(a, 0),
                 "credited": market.balance_of(a)} for a in sorted(people)]
    return {"market": market.address, "chain_id": int(market.w3.eth.chain_id),
            "tasks": tasks, "payments": payments, "held": market.total_held()}


def _eth(wei: int) -> str:
    return f"{wei / 1e18:.6f}"


def format_status(st: dict[str, Any]) -> str:
    """The human tables of :func:`market_status` (amounts in ether)."""
    out = [f"market {st['market']} (chain {st['chain_id']}), holding {_eth(st['held'])} ETH"]
    out.append(f"{'task':>4} {'phase':<11} {'escrow':>10} {'servers c/r/d':>13} {'accepted':>8} "
               f"{'refused':>7} {'aggregate':>9}")
    for t in st["tasks"]:
        srv = t["servers"]
        crd = "/".join(str(sum(s[k] for s in srv)) for k in ("committed", "revealed",
                                                             "delivered"))
        agg = {None: "-", True: "ok", False: "FAIL"}[t["aggregate_checked"]]
        out.append(f"{t['task']:>4} {t['phase']:<11} {_eth(t['escrow_remaining']):>10} "
                   f"{crd + ' of ' + str(len(srv)):>13} {len(t['accepted']):>8} "
                   f"{len(t['refused']):>7} {agg:>9}")
        for a in t["accepted"]:
            out.append(f"     accepted {a}")
        for r in t["refused"]:
            out.append(f"     refused  {r['data_owner']} ({r['reason']})")
    if st["payments"]:
        out.append(f"{'account':<42} {'withdrawn':>10} {'credited':>10}")
        for p in st["payments"]:
            out.append(f"{p['account']:<42} {_eth(p['withdrawn']):>10} {_eth(p['credited']):>10}")
    return "\n".join(out)
