"""Secrets: generated credentials reach Kubernetes only inside Secrets, never in ConfigMaps or chart values.

Why not "Secret data must be a Pulumi secret": a policy cannot see secretness. The engine sends secret
inputs wire-encoded, but pulumi-policy 1.21's analyzer (`Analyze`, `AnalyzeStack`) deserializes them with
`deserialize_properties(..., proxy_secrets=False)`, so policies get plain values with no marker (only
`Remediate` keeps `pulumi_policy.Secret` wrappers). And pulumi-kubernetes always marks a Secret's `data`
and `stringData` as additional secret outputs, so the state is encrypted whatever the program passed.
What a policy *can* see is where a credential flows: the stack's property dependencies show every input
that takes a generator's output (RandomPassword, RandomBytes, PrivateKey), and the inputs show keys that
hold credentials. The rules below check those flows; that secret config and generated values stay
secret end to end is tested on the offline preview's records (tests/test_robustness.py).

Anchors: CIS Kubernetes 1.9 5.4.1 (prefer Secrets as files over environment or configuration) and 5.4.2
(external secret storage).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    CHART_TYPES,
    CONFIG_MAP_TYPE,
    SECRET_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    for_types,
    known_elements,
    known_items,
    mapping,
    rendered_by,
    string_list,
)

CIS = "CIS Kubernetes Benchmark"
GENERATOR_TYPES = [
    "random:index/randomPassword:RandomPassword",
    "random:index/randomBytes:RandomBytes",
    "tls:index/privateKey:PrivateKey",
]
# Normalized key names (lowercase, letters and digits only) that hold a credential...
CREDENTIAL_SUFFIXES = ["password", "passwd", "secret", "token", "apikey", "privatekey", "credential", "credentials"]
# ... unless they name where one is kept (existingSecret: grafana-admin).
REFERENCE_SUFFIXES = ["existingsecret", "secretname", "secretref", "secretkeyref"]


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_credential_key(key: str, credential: list[str], reference: list[str]) -> bool:
    normal = _normal(key)
    return normal.endswith(tuple(credential)) and not normal.endswith(tuple(_normal(r) for r in reference))


def _generated_only_in_secrets(args: StackValidationArgs, report: Report) -> None:
    generators = set(config_value(args, "generatorTypes", GENERATOR_TYPES))
    for r in sorted(args.resources, key=lambda r: r.urn):
        if not r.resource_type.startswith("kubernetes:") or base_type(r.resource_type) == SECRET_TYPE:
            continue
        for prop, dependencies in sorted(r.property_dependencies.items()):
            for dependency in dependencies:
                if dependency.resource_type in generators:
                    report(
                        f"{describe(r.resource_type, r.props, r.name)} takes '{prop}' from the generated credential "
                        f"{dependency.resource_type.rsplit(':', 1)[-1]} '{dependency.name}'; generated credentials "
                        "reach Kubernetes only in a Secret",
                        r.urn,
                    )


generated_credentials_only_in_secrets = StackValidationPolicy(
    name="generated-credentials-only-in-secrets",
    description="A generated credential (RandomPassword, RandomBytes, TLS PrivateKey) flows into Kubernetes only "
    "through a Secret: no other object or chart takes it as an input.",
    validate=_generated_only_in_secrets,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.4.1"),
    config_schema=PolicyConfigSchema(properties={"generatorTypes": string_list(GENERATOR_TYPES)}),
)


def _key_config(args: Any) -> tuple[list[str], list[str]]:
    return (
        list(config_value(args, "credentialKeys", CREDENTIAL_SUFFIXES)),
        list(config_value(args, "referenceKeys", REFERENCE_SUFFIXES)),
    )


KEY_SCHEMA = {
    "credentialKeys": string_list(
        CREDENTIAL_SUFFIXES, description="A key whose normalized name ends with one of these holds a credential."
    ),
    "referenceKeys": string_list(
        REFERENCE_SUFFIXES, description="... unless it ends with one of these (it names a Secret instead)."
    ),
}


@for_types(CONFIG_MAP_TYPE)
def _configmap(args: ResourceValidationArgs, report: Report) -> None:
    if rendered_by(args.urn):
        return  # a chart's templates are upstream's; what Gatehouse gives a chart is checked in its values
    credential, reference = _key_config(args)
    for field in ("data", "binaryData"):
        for key in sorted(mapping(args.props.get(field)), key=str):
            if is_credential_key(str(key), credential, reference):
                report(
                    f"{describe(args.resource_type, args.props, args.name)} holds '{key}' in {field}; credentials "
                    "belong in a Secret"
                )


no_credentials_in_configmaps = ResourceValidationPolicy(
    name="no-credentials-in-configmaps",
    description="ConfigMaps Gatehouse declares hold no credentials (keys named password, secret, token, api key, "
    "private key...).",
    validate=_configmap,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.4.1"),
    config_schema=PolicyConfigSchema(properties=KEY_SCHEMA),
)


def _is_literal(value: Any) -> bool:
    """A non-empty string that is not a template (`{{ ... }}`) to be filled in by the chart."""
    return isinstance(value, str) and bool(value.strip()) and "{{" not in value


def _literals(value: Any, path: str, credential: list[str], reference: list[str]) -> Iterator[str]:
    """Paths of credential-named keys holding a literal, non-empty string (unknown values are skipped)."""
    if isinstance(value, Mapping):
        entries = dict(known_items(value))
        # an environment entry: {name: DB_PASSWORD, value: <literal>} (valueFrom.secretKeyRef is the way)
        name, literal = entries.get("name"), entries.get("value")
        if isinstance(name, str) and is_credential_key(name, credential, reference) and _is_literal(literal):
            yield f"{path}.value"
        for key, nested in entries.items():
            child = f"{path}.{key}"
            if is_credential_key(key, credential, reference) and isinstance(nested, str):
                if _is_literal(nested):
                    yield child
                continue
            yield from _literals(nested, child, credential, reference)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in known_elements(value):
            yield from _literals(item, f"{path}[{index}]", credential, reference)


@for_types(*CHART_TYPES)
def _chart_values(args: ResourceValidationArgs, report: Report) -> None:
    credential, reference = _key_config(args)
    values = mapping(args.props.get("values"))
    for path in _literals(values, "values", credential, reference):
        report(
            f"Chart '{args.name}' sets {path} to a literal; pass credentials through an existing Secret "
            "(existingSecret and the like), never in chart values"
        )


no_literal_credentials_in_chart_values = ResourceValidationPolicy(
    name="no-literal-credentials-in-chart-values",
    description="Helm chart values carry no literal credentials: charts read them from existing Secrets.",
    validate=_chart_values,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.4.1"),
    config_schema=PolicyConfigSchema(properties=KEY_SCHEMA),
)

POLICIES = [
    generated_credentials_only_in_secrets,
    no_credentials_in_configmaps,
    no_literal_credentials_in_chart_values,
]
