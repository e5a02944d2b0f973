"""The component harness: a build sees only its own runtime state and leaves none behind, and every
component of the program has its component test."""

from __future__ import annotations

import contextvars
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pulumi
from component_harness import PROJECT, STACK, build
from pulumi.runtime import settings

import components
from components import config
from components.tenancy import Tenant, TenantArgs

HERE = Path(__file__).resolve().parent
TENANT = config.Tenant(
    name="payments", organization="acme", repo="acme-corp/payments", profile="standard", size="small"
)


def runtime_state() -> tuple[object, ...]:
    return (
        pulumi.runtime.get_root_resource(),
        settings.SETTINGS.monitor,
        pulumi.get_project(),
        pulumi.get_stack(),
        dict(pulumi.runtime.config.CONFIG.get()),
    )


def make_reading(seen: list[object]) -> Tenant:
    """A Tenant, after noting the stack config, the project and the stack as the component would see them."""
    seen += [pulumi.Config("gatehouse").get("probe"), pulumi.runtime.is_config_secret("gatehouse:probe")]
    seen += [pulumi.get_project(), pulumi.get_stack(), pulumi.Config("gatehouse").get("leftover")]
    return Tenant("payments", TenantArgs(TENANT, False, [], frozenset()))


def test_a_build_sees_its_config_and_leaves_no_runtime_state_behind() -> None:
    before = runtime_state()
    seen: list[object] = []
    built = build(lambda: make_reading(seen), config={"gatehouse:probe": "x"}, secrets={"gatehouse:probe"})
    assert seen == ["x", True, PROJECT, STACK, None]
    assert built.component.urn == f"urn:pulumi:{STACK}::{PROJECT}::gatehouse:tenancy:Tenant::payments"
    assert runtime_state() == before


def test_what_an_earlier_run_left_is_not_seen() -> None:
    """As after an offline preview (run_program sets config and options and leaves them): done in a copy of
    the context here, so this test leaves nothing either."""

    def after_a_preview() -> list[object]:
        pulumi.runtime.set_all_config({"gatehouse:leftover": "stale"})
        pulumi.runtime.reset_options(project="elsewhere", stack="staging")
        seen: list[object] = []
        build(lambda: make_reading(seen))
        assert pulumi.get_stack() == "staging"  # the caller's context is as it was
        return seen

    assert contextvars.copy_context().run(after_a_preview) == [None, False, PROJECT, STACK, None]


def component_classes() -> set[str]:
    """The names of every ComponentResource class the components package defines."""
    names: set[str] = set()
    for info in pkgutil.walk_packages(components.__path__, "components."):
        module = importlib.import_module(info.name)
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, pulumi.ComponentResource) and value.__module__ == info.name:
                names.add(name)
    return names


def component_test_file(component: str) -> Path:
    """`SecretsOperator` is tested in tests/components/test_secrets_operator.py."""
    return HERE / ("test_" + re.sub(r"(?<!^)(?=[A-Z])", "_", component).lower() + ".py")


def test_every_component_has_its_component_test() -> None:
    found = component_classes()
    assert {"AuthGateway", "IdentityStack", "Organization", "SecretsOperator", "Tenant"} <= found
    missing = sorted(c for c in found if not component_test_file(c).exists())
    assert missing == [], "components without tests/components/test_<component>.py"
