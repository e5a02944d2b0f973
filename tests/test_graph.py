"""The resource graph: components own their children, arrows follow dependencies between components."""

from __future__ import annotations

from pathlib import Path

from offline.graph import build, draw


def _reg(urn: str, type_: str, name: str, parent: str = "", dependencies: list[str] | None = None) -> dict:
    return {"urn": urn, "type": type_, "name": name, "parent": parent, "dependencies": dependencies or []}


RESOURCES = [
    _reg("gw", "gatehouse:gateway:AuthGateway", "gateway"),
    _reg("chart", "kubernetes:helm.sh/v4:Chart", "envoy", parent="gw"),
    _reg(
        "route", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "shop", parent="gw", dependencies=["chart", "ns"]
    ),
    _reg("t", "gatehouse:tenancy:Tenant", "shop"),
    _reg("ns", "kubernetes:core/v1:Namespace", "shop", parent="t"),
    _reg("quota", "kubernetes:core/v1:ResourceQuota", "q", parent="t", dependencies=["ns"]),
]


def test_children_are_counted_and_cross_component_dependencies_become_edges() -> None:
    boxes, edges = build(RESOURCES)
    owned = {b.title: dict(b.owned) for b in boxes}
    assert owned == {
        "AuthGateway gateway": {"Chart": 1, "HTTPRoute": 1},
        "Tenant shop": {"Namespace": 1, "ResourceQuota": 1},
    }
    assert edges == {("gw", "t"): 1}  # inside a component, dependencies are not drawn


def test_draw_writes_svg_and_png(tmp_path: Path) -> None:
    boxes, edges = build(RESOURCES)
    written = draw(boxes, edges, "test", tmp_path / "graph")
    assert [p.suffix for p in written] == [".svg", ".png"]
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
