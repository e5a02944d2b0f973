"""The Tekton Dashboard as a staff app: published on the `tekton` host (`identity.hosts.tekton`) behind the
central oauth2-proxy, for the platform groups seed 002's Tekton RBAC model gives Tekton access (admins,
operators, engineering), never anyone else (no Google Workspace members: the seed grants them nothing).

The Dashboard is the operator's, not Gatehouse's: tektoncd/operator v0.81.1 components.yaml pins
tektoncd/dashboard v0.71.0, whose config/300-service.yaml is the Service `tekton-dashboard`, port 9097, and
config/300-deployment.yaml the pods (`app: tekton-dashboard`, container port 9097); the operator installs
them in the TektonConfig's target namespace (pkg/reconciler/kubernetes/tektondashboard/transform.go). It is
read-only (tekton.py) and acts with its own ServiceAccount, so who passes the sign-in sees every namespace's
runs: the staff groups only, like Grafana and Argo CD. The gateway plane publishes it as it does any staff
app (route, SecurityPolicy, identity filter, DNS record): this module only says what that app is.
"""

from __future__ import annotations

from .. import config
from .tekton import TARGET_NAMESPACE

APP_NAME = "tekton-dashboard"
SERVICE = "tekton-dashboard"
PORT = 9097


def dashboard_app(identity: config.Identity) -> config.App:
    """The Dashboard as the gateway serves it: a staff app for the three platform groups."""
    groups = identity.platform_groups
    return config.App(
        name=APP_NAME,
        host=identity.hosts.tekton,
        namespace=TARGET_NAMESPACE,
        service=config.ServiceRef(name=SERVICE, port=PORT),
        audience="staff",
        staff_groups=[groups.admins, groups.operators, groups.engineering],
        workspace_members=False,
    )


def dashboard_access(identity: config.Identity) -> config.AppAccess:
    """Who may enter: exactly the app's staff groups (config/access.py would add Workspace members by default)."""
    app = dashboard_app(identity)
    return config.AppAccess(audience="staff", staff_groups=tuple(app.staff_groups or ()), workspace_members=False)
