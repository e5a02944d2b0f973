"""Schema validation of every object and chart the program declares (validator.py is the entry point)."""

from .builtin import UnsupportedKubernetesVersion
from .charts import FREE_FORM_VALUE_PATHS, coalesce
from .crds import CrdCatalog, crd_catalog, has_crd_catalog, load_crd_catalog, remember_crd_catalog, strict_crd_schema
from .problems import MAX_ERRORS, Result
from .validator import Validator, normalise

__all__ = [
    "FREE_FORM_VALUE_PATHS",
    "MAX_ERRORS",
    "CrdCatalog",
    "Result",
    "UnsupportedKubernetesVersion",
    "Validator",
    "coalesce",
    "crd_catalog",
    "has_crd_catalog",
    "load_crd_catalog",
    "normalise",
    "remember_crd_catalog",
    "strict_crd_schema",
]
