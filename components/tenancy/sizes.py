"""Size tiers: a tenant namespace's ResourceQuota and LimitRange.

Every tier allows zero LoadBalancer and NodePort Services: traffic enters only through the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policy import gatehouse_contract as contract


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

    @classmethod
    def from_quota(cls, hard: Mapping[str, str], container_max_cpu: str, container_max_memory: str) -> Size:
        """The tier whose ResourceQuota is `hard` (what `quota` gives back)."""
        return cls(
            hard["requests.cpu"],
            hard["requests.memory"],
            hard["limits.cpu"],
            hard["limits.memory"],
            int(hard["pods"]),
            int(hard["persistentvolumeclaims"]),
            hard["requests.storage"],
            int(hard["services"]),
            container_max_cpu,
            container_max_memory,
        )

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
    # the largest tier is the policy pack's ceiling: no tenant quota may exceed it
    "large": Size.from_quota(contract.QUOTA_CEILINGS, "4", "8Gi"),
}

# What a container gets when it declares nothing (seed 002's LimitRange).
DEFAULT_LIMITS = {"cpu": "500m", "memory": "512Mi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
