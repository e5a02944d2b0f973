"""The deploy-order check (check.py) and what it knows of the pinned charts (chart_facts.py)."""

from .check import RULES, OrderReport, OrderViolation, Prerequisite, check_order, prerequisites_of

__all__ = ["RULES", "OrderReport", "OrderViolation", "Prerequisite", "check_order", "prerequisites_of"]
