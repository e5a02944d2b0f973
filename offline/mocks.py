"""The providers' stand-ins for an offline run: `OfflineMocks` echoes a resource's inputs and fills in the
outputs programs read (auto-names, generated passwords and keys), derived deterministically from the
resource so that two runs give identical results."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pulumi
import yaml


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _fake_secret(seed: str, length: int = 32) -> str:
    """A stand-in for a generated credential: deterministic, and obviously not a real one."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    raw = hashlib.sha256(seed.encode()).digest() * (length // 32 + 1)
    return "".join(alphabet[b % len(alphabet)] for b in raw[:length])


def _fake_pem(kind: str, seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 4).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----", ""])


class OfflineMocks(pulumi.runtime.Mocks):
    """Provider stand-ins: echo inputs, add the computed outputs programs depend on."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        seed = _digest(args.typ, args.name)
        outputs = dict(args.inputs)
        emulate = _EMULATORS.get(args.typ)
        if emulate is not None:
            outputs.update(emulate(args.inputs, seed))
        if args.typ.startswith("kubernetes:") and args.custom:
            return _kubernetes_object(args.name, outputs, seed)
        return str(uuid.UUID(seed[:32])), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        if args.token == "kubernetes:yaml:decode":
            return {"result": list(yaml.safe_load_all(args.args.get("text", "")))}, None
        return {}, None


def _kubernetes_object(name: str, outputs: dict[str, Any], seed: str) -> tuple[str, dict[str, Any]]:
    """The provider auto-names objects without metadata.name; its id is `namespace/name`."""
    metadata = dict(outputs.get("metadata") or {})
    if not metadata.get("name"):
        metadata["name"] = f"{name}-{seed[:8]}"
    outputs["metadata"] = metadata
    namespace = metadata.get("namespace")
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), outputs


def _random_password(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    value = _fake_secret(seed, int(inputs.get("length", 32)))
    return {"result": value, "bcryptHash": "$2a$10$" + _fake_secret(seed + "bcrypt", 53)}


def _random_id(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    raw = hashlib.sha256(seed.encode()).digest()[: int(inputs.get("byteLength", 8))]
    return {
        "hex": raw.hex(),
        "b64Std": base64.b64encode(raw).decode(),
        "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "dec": str(int.from_bytes(raw, "big")),
    }


def _random_bytes(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    raw = (hashlib.sha512(seed.encode()).digest() * 4)[: int(inputs.get("length", 32))]
    return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}


def _private_key(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    return {
        "privateKeyPem": _fake_pem("PRIVATE KEY", seed),
        "privateKeyPemPkcs8": _fake_pem("PRIVATE KEY", seed + "pkcs8"),
        "privateKeyOpenssh": _fake_pem("OPENSSH PRIVATE KEY", seed),
        "publicKeyPem": _fake_pem("PUBLIC KEY", seed),
        "publicKeyOpenssh": "ssh-ed25519 " + _fake_secret(seed + "ssh", 68),
        "publicKeyFingerprintSha256": "SHA256:" + _fake_secret(seed + "fp", 43),
    }


def _certificate(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    return {"certPem": _fake_pem("CERTIFICATE", seed)}


_EMULATORS = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomString:RandomString": lambda i, s: {"result": _fake_secret(s, int(i.get("length", 16)))},
    "random:index/randomId:RandomId": _random_id,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "random:index/randomUuid:RandomUuid": lambda i, s: {"result": str(uuid.UUID(s[:32]))},
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _certificate,
    "tls:index/locallySignedCert:LocallySignedCert": _certificate,
    "tls:index/certRequest:CertRequest": lambda i, s: {"certRequestPem": _fake_pem("CERTIFICATE REQUEST", s)},
}
