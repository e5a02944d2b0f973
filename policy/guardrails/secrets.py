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
(external secret storage); External Secrets Operator v2.9.0 (the pinned chart's) apis/externalsecrets/v1
secretstore_types.go (`conditions` "used to constrain a ClusterSecretStore to specific namespaces") and
pkg/controllers/secretstore/client_manager.go `shouldProcessSecret` (no conditions: every namespace; a
condition matches through its namespaceSelector, its `namespaces` or an unanchored `regexp.MatchString`).
"""

from __future__ import annotations

import math
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
    NON_OBJECT_TYPES,
    SECRET_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    dig,
    for_types,
    is_patch,
    known_elements,
    known_items,
    mapping,
    objects,
    rendered_by,
    sequence,
    string_list,
)
from .workloads import WORKLOADS  # type token -> where its pod spec is

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

# --- credentials by what they look like -------------------------------------------------------------------

PEM_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# Prefixes providers put on their tokens so that scanners find them (GitHub, GitLab, Slack, AWS access keys,
# Stripe, OpenAI, Google API keys, npm, Hugging Face, DigitalOcean, Cloudflare API tokens have none).
TOKEN_PREFIXES: list[tuple[str, re.Pattern[str]]] = [
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Stripe key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}")),
    ("an OpenAI key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("a DigitalOcean token", re.compile(r"\bdo[po]_v1_[a-f0-9]{64}")),
]
# A run of token characters long and random enough to be a generated secret: upper and lower case letters and
# digits mixed (so not a word, a name, a path or a hex digest), at least ENTROPY_BITS bits per character.
CANDIDATE = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
ENTROPY_BITS = 4.0


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_looking(token: str) -> bool:
    token = token.strip("=")
    return (
        len(token) >= 24
        and any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and sum(c.isdigit() for c in token) >= 2
        and _entropy(token) >= ENTROPY_BITS
    )


def credential_shape(value: str) -> str | None:
    """What a string looks like if it looks like a credential (never the value itself), else None."""
    if PEM_PRIVATE_KEY.search(value):
        return "a PEM private key"
    if JWT.search(value):
        return "a JSON Web Token"
    for what, pattern in TOKEN_PREFIXES:
        if pattern.search(value):
            return what
    # certificates (public) are long base64 too: leave every PEM block out of the entropy test
    text = PEM_BLOCK.sub(" ", value)
    if any(_random_looking(m.group(0)) for m in CANDIDATE.finditer(text)):
        return "a high-entropy string"
    return None


def _shaped(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, shape) of every known string under `value` that looks like a credential."""
    if isinstance(value, str):
        shape = credential_shape(value)
        if shape:
            yield path, shape
    elif isinstance(value, Mapping):
        for key, nested in known_items(value):
            yield from _shaped(nested, f"{path}.{key}")
    elif isinstance(value, Sequence):
        for index, item in known_elements(value):
            yield from _shaped(item, f"{path}[{index}]")


def _env_literals(pod: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for _, c in known_elements(sequence(pod.get(field))):
            c = mapping(c)
            for _, env in known_elements(sequence(c.get("env"))):
                env = mapping(env)
                if "value" in env:
                    yield f"{field}[{c.get('name')}].env[{env.get('name')}].value", env.get("value")


def _places(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Where a credential could sit in plain sight: annotations, ConfigMap data, env literals, chart values."""
    if resource_type in CHART_TYPES:
        yield "values", props.get("values")
        return
    yield "metadata.annotations", mapping(mapping(props.get("metadata")).get("annotations"))
    kind = base_type(resource_type)
    if kind == CONFIG_MAP_TYPE:
        yield "data", props.get("data")
    pod_path = WORKLOADS.get(kind)
    if pod_path is not None:
        yield from _env_literals(mapping(dig(props, *pod_path)))


def _credential_values(args: ResourceValidationArgs, report: Report) -> None:
    if not args.resource_type.startswith("kubernetes:") or base_type(args.resource_type) == SECRET_TYPE:
        return
    if args.resource_type in NON_OBJECT_TYPES and args.resource_type not in CHART_TYPES:
        return
    if rendered_by(args.urn):
        return  # a chart's templates are upstream's; what Gatehouse gives a chart is checked in its values
    for each in objects(args):
        what = (
            f"Chart '{args.name}'"
            if args.resource_type in CHART_TYPES
            else describe(each.resource_type, each.props, each.name)
        )
        for place, value in _places(each.resource_type, each.props):
            for path, shape in _shaped(value, place):
                report(f"{what} holds {shape} in {path}; credentials belong in a Secret (the value is not shown)")


no_credential_values_outside_secrets = ResourceValidationPolicy(
    name="no-credential-values-outside-secrets",
    description="No credential sits outside a Secret under an unremarkable key: annotations, ConfigMap data, "
    "environment literals and chart values hold no PEM private key, JSON Web Token, provider-prefixed token or "
    "high-entropy string.",
    validate=_credential_values,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.4.1"),
)


# --- ClusterSecretStores -----------------------------------------------------------------------------------

CLUSTER_SECRET_STORE_TYPES = (
    "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    "kubernetes:external-secrets.io/v1beta1:ClusterSecretStore",
)


@for_types(*CLUSTER_SECRET_STORE_TYPES)
def _store_conditions(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    spec = mapping(args.props.get("spec"))
    conditions = [mapping(c) for c in sequence(spec.get("conditions"))]
    if not conditions:
        if not is_patch(args.resource_type) or "conditions" in spec:
            report(f"{what} has no namespace conditions: ExternalSecrets of every namespace may read through it")
        return
    for index, condition in enumerate(conditions, start=1):
        selector = condition.get("namespaceSelector")
        names = sequence(condition.get("namespaces"))
        regexes = [str(r) for r in sequence(condition.get("namespaceRegexes"))]
        if selector is not None:
            selector = mapping(selector)
            if not mapping(selector.get("matchLabels")) and not sequence(selector.get("matchExpressions")):
                report(f"{what} condition {index} has an empty namespaceSelector, which matches every namespace")
        elif not names and not regexes:
            report(f"{what} condition {index} names no namespaces")
        for regex in regexes:
            if not (regex.startswith("^") and regex.endswith("$")):
                report(
                    f"{what} condition {index} regex '{regex}' is not anchored (^...$): it matches every namespace "
                    "that contains it"
                )


clustersecretstore_namespace_conditions = ResourceValidationPolicy(
    name="clustersecretstore-namespace-conditions",
    description="Every ClusterSecretStore names the namespaces that may use it: conditions are set, no "
    "namespaceSelector is empty, namespace regexes are anchored.",
    validate=_store_conditions,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="External Secrets Operator", reference="ClusterSecretStore conditions"),
)

POLICIES = [
    generated_credentials_only_in_secrets,
    no_credentials_in_configmaps,
    no_literal_credentials_in_chart_values,
    no_credential_values_outside_secrets,
    clustersecretstore_namespace_conditions,
]
