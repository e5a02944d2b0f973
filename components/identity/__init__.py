"""Identity plane: Authentik (users), Dex (OIDC broker) and Keycloak (organizations, API tokens).

Where each rendered object comes from (IdentityStack in identity_stack.py composes them):

- databases.py: the CloudNativePG chart and one Cluster, with its credentials Secret, per app
- authentik.py: Authentik's chart and its secrets; blueprint.py the blueprint it loads
- dex.py: Dex's chart, its config and connector Secrets, the CA ConfigMap; clients.py its static clients
- keycloak.py: the keycloakx chart and its admin Secret; realm.py, realm_flows.py and realm_scopes.py the
  realm file, which realm_sync.py applies with a keycloak-config-cli Job
- argocd.py: the Argo CD chart and its Secrets (or patches of an existing install)
- common.py: the namespaces' home, login routes and small Secret builders every module shares
"""

from .clients import DexClient
from .identity_stack import IdentityStack, IdentityStackArgs

__all__ = ["DexClient", "IdentityStack", "IdentityStackArgs"]
