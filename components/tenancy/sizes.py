"""Size tiers: a tenant namespace's ResourceQuota and LimitRange.

Every tier allows zero LoadBalancer and NodePort Services: traffic enters only through the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    persistent_volume_claims: int
    requests_storage: str
    services: int
    container_max_cpu: str
    container_max_memory: str

    def quota(self) -> dict[str, str]:
        return {
            "requests.cpu": self.requests_cpu,
            "requests.memory": self.requests_memory,
            "limits.cpu": self.limits_cpu,
            "limits.memory": self.limits_memory,
            "pods": str(self.pods),
            "persistentvolumeclaims": str(self.persistent_volume_claims),
            "requests.storage": self.requests_storage,
            "services": str(self.services),
            "services.loadbalancers": "0",
            "services.nodeports": "0",
        }


SIZES: dict[str, Size] = {
    "small": Size("2", "4Gi", "4", "8Gi", 20, 5, "50Gi", 10, "1", "2Gi"),
    "medium": Size("4", "8Gi", "8", "16Gi", 50, 10, "200Gi", 20, "2", "4Gi"),
    "large": Size("8", "16Gi", "16", "32Gi", 100, 20, "500Gi", 40, "4", "8Gi"),
}

# What a container gets when it declares nothing (seed 002's LimitRange).
DEFAULT_LIMITS = {"cpu": "500m", "memory": "512Mi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
