"""PostgreSQL for Authentik, Dex and Keycloak: the CloudNativePG operator and one Cluster each.

Each Cluster bootstraps its database with an owner whose password we generate and hand over in a
`kubernetes.io/basic-auth` Secret (CloudNativePG requires that type, and the username must equal the
owner); consumers read the same Secret. Clients connect to the `<cluster>-rw` Service.

The provider waits for no condition of a custom resource by default (pulumi-kubernetes
provider/pkg/await/awaiters.go), and Dex exits at start when its database is unreachable: each Cluster
is awaited until CloudNativePG reports it `Ready` (api/v1/cluster_types.go `ConditionClusterReady`, set
once the cluster is healthy), and the charts that use one depend on it (`Database.resource`).
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
# pulumi-kubernetes' `pulumi.com/waitFor` (v4.18+): wait for the condition, instead of not at all
READY = {"pulumi.com/waitFor": "condition=Ready"}


@dataclass(frozen=True)
class Database:
    cluster: str  # the Cluster's name, `<app>-db`
    namespace: str
    database: str
    owner: str
    secret: SecretData  # the basic-auth Secret (`username`, `password`), with its values
    resource: k8s.apiextensions.CustomResource  # the Cluster, awaited until Ready: consumers depend on it

    @property
    def credentials(self) -> str:
        """The name of the basic-auth Secret."""
        return self.secret.name

    @property
    def host(self) -> str:
        """The read-write Service, always pointing at the primary."""
        return meta.service_host(f"{self.cluster}-rw", self.namespace)


def operator(home: Home, production: bool, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """CRD-bearing: in prod its CRDs are protected, since deleting them would delete every database."""
    values = {"replicaCount": 1, "resources": resources("100m", "128Mi", "512Mi")}
    return helm_chart("cloudnative-pg", "cloudnative-pg", "cloudnative-pg", home.ref, values, opts, production)


def cluster_spec(app: str, credentials: str, production: bool) -> dict[str, object]:
    """Database and owner `app`, bootstrapped from the basic-auth Secret `credentials`."""
    instances = 3 if production else 1
    return {
        "instances": instances,
        "imageName": IMAGES["postgresql"].ref,
        "storage": {"size": "20Gi" if production else "5Gi"},
        # a single instance cannot be drained anyway; a PodDisruptionBudget would only block node upgrades
        "enablePDB": instances > 1,
        "bootstrap": {"initdb": {"database": app, "owner": app, "secret": {"name": credentials}}},
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
    name = f"{app}-db"
    after_operator = pulumi.ResourceOptions(depends_on=[operator_chart, credentials.resource])
    cluster = meta.custom_resource(
        f"{home.name}-{name}",
        "postgresql.cnpg.io/v1",
        "Cluster",
        meta.object_meta(name, COMPONENT, home.ref, annotations=READY),
        cluster_spec(app, credentials.name, production),
        meta.stateful(pulumi.ResourceOptions.merge(opts, after_operator), production),
    )
    return Database(name, home.name, app, app, credentials, cluster)
