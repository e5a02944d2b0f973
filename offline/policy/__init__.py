"""The policy pack run in-process, as `pulumi preview --policy-pack` would run it (session.py)."""

from .config import LEVELS, effective_config
from .pack import LoadedPack, StockServicer, load_pack
from .report import PolicyConfigError, PolicyPackLoadError, PolicyReport, Violation
from .session import PolicySession, analyze_resources, run_policies

__all__ = [
    "LEVELS",
    "LoadedPack",
    "PolicyConfigError",
    "PolicyPackLoadError",
    "PolicyReport",
    "PolicySession",
    "StockServicer",
    "Violation",
    "analyze_resources",
    "effective_config",
    "load_pack",
    "run_policies",
]
