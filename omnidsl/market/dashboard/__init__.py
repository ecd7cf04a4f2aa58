"""The market dashboard: a local page showing one market live from its chain events (tasks,
escrow, servers, accepted and refused data owners with reasons, payments, gas) and the model
owner's off-chain round reports (accuracy).  docs/market.md, "Dashboard, round log and report".

Names are imported on first use (the CLI imports ``commands`` without web3)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnidsl.market.dashboard.rounds import DashboardHook, RoundLogReader, RoundLogWriter
    from omnidsl.market.dashboard.server import DashboardServer
    from omnidsl.market.dashboard.view import MarketView

_WHERE = {"DashboardHook": "rounds", "RoundLogReader": "rounds", "RoundLogWriter": "rounds",
          "DashboardServer": "server", "MarketView": "view"}
__all__ = ["DashboardHook", "DashboardServer", "MarketView", "RoundLogReader", "RoundLogWriter"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
