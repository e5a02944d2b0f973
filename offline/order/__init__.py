"""The deploy-order check of the offline preview: check.py is its entry point and says where each part lives."""

from .check import check_order
from .report import RULES, OrderReport, OrderViolation, Prerequisite, prerequisites_of

__all__ = ["RULES", "OrderReport", "OrderViolation", "Prerequisite", "check_order", "prerequisites_of"]
