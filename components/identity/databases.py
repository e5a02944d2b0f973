"""PostgreSQL for Authentik, Dex and Keycloak: the CloudNativePG operator and one Cluster each.

Each Cluster bootstraps its database with an owner whose password we generate and hand over in a
`kubernetes.io/basic-auth` Secret (CloudNativePG requires that type, and the username must equal the
owner); consumers read the same Secret. Clients connect to the `<cluster>-rw` Service.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from ..charts import SecretData, helm_chart, resources
from ..versions import IMAGES
from .common import COMPONENT, Home, kept, password, secret

PORT = 5432


@dataclass(frozen=True)
class Database:
    cluster: str  # the Cluster's name, `<app>-db`
    namespace: str
    database: str
    owner: str
    secret: SecretData  # the basic-auth Secret (`username`, `password`), with its values

    @property
    def credentials(self) -> str:
        """The name of the basic-auth Secret."""
        return self.secret.name

    @property
    def host(self) -> str:
        """The read-write Service, always pointing at the primary."""
        return meta.service_host(f"{self.cluster}-rw", self.namespace)


def operator(home: Home, production: bool, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """CRD-bearing: in prod it is protected, since deleting it would delete every database."""
    values = {"replicaCount": 1, "resources": resources("100m", "128Mi", "512Mi")}
    return helm_chart(
        "cloudnative-pg", "cloudnative-pg", "cloudnative-pg", home.ref, values, meta.stateful(opts, production)
    )


def cluster_spec(db: Database, production: bool) -> dict[str, object]:
    instances = 3 if production else 1
    return {
        "instances": instances,
        "imageName": IMAGES["postgresql"].ref,
        "storage": {"size": "20Gi" if production else "5Gi"},
        # a single instance cannot be drained anyway; a PodDisruptionBudget would only block node upgrades
        "enablePDB": instances > 1,
        "bootstrap": {"initdb": {"database": db.database, "owner": db.owner, "secret": {"name": db.credentials}}},
        "resources": resources("100m", "256Mi", "1Gi"),
    }


def database(
    app: str,
    home: Home,
    production: bool,
    opts: pulumi.ResourceOptions,
    operator_chart: k8s.helm.v4.Chart,
) -> Database:
    owner_password = password(f"{app}-db-password", kept(opts, production))
    credentials = secret(
        home,
        f"{app}-db-credentials",
        {"username": app, "password": owner_password},  # CloudNativePG: the username must be the owner
        opts,
        type_="kubernetes.io/basic-auth",
    )
    db = Database(f"{app}-db", home.name, app, app, credentials)
    after_operator = pulumi.ResourceOptions(depends_on=[operator_chart, credentials.resource])
    k8s.apiextensions.CustomResource(
        f"{home.name}-{db.cluster}",
        api_version="postgresql.cnpg.io/v1",
        kind="Cluster",
        metadata=meta.object_meta(db.cluster, COMPONENT, home.ref),
        spec=cluster_spec(db, production),
        opts=meta.stateful(pulumi.ResourceOptions.merge(opts, after_operator), production),
    )
    return db
