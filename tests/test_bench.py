"""make bench's own pieces: the generated stacks are valid, and the critical path is measured right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.__main__ import median
from bench.generate import generated_config
from bench.measure import longest_chain, measure_floor
from components import config
from offline.records import Registration
from offline.runtime import run_program
from offline.stack_config import StackConfig

REPO = Path(__file__).resolve().parents[1]


def _reg(urn: str, *deps: str) -> Registration:
    return Registration(urn, "t", urn, "", True, False, "", {}, {}, dependencies=list(deps))


def test_longest_chain_follows_dependencies_not_registration_order() -> None:
    regs = [_reg("d", "c"), _reg("a"), _reg("c", "b", "a"), _reg("b", "a"), _reg("lonely")]
    assert longest_chain(regs) == 4  # a -> b -> c -> d


def test_generated_stacks_are_valid_config_in_proportion() -> None:
    raw = {key.split(":", 1)[1]: value for key, value in generated_config(50).items()}
    parsed = config.parse_raw({k: v for k, v in raw.items() if k not in config.SECRET_KEYS})
    assert len(parsed.tenants) == 50
    assert len(parsed.organizations) == 10
    assert len(parsed.apis) == 5 and len(parsed.apps) == 6  # the stack's Grafana and one app per 10 tenants
    assert {t.profile for t in parsed.tenants} == {"standard", "elevated"}


def test_the_median_run_is_reported_whole() -> None:
    runs = [{"total": 70.0, "n": 1}, {"total": 58.0, "n": 2}, {"total": 61.0, "n": 3}]
    assert median(runs, lambda r: r["total"]) == {"total": 61.0, "n": 3}
    assert median(runs[:1], lambda r: r["total"]) == runs[0]


def test_the_floor_runs_the_sdk_as_shipped_or_with_the_runtimes_swaps() -> None:
    bare, swapped = measure_floor(40), measure_floor(40, swap_sdk_helpers=True)
    assert bare["resources"] == swapped["resources"] == 41  # 40 ConfigMaps and the stack


def test_a_run_can_leave_the_sdk_helpers_alone(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfrom pulumi.runtime import rpc\n"
        "pulumi.export('serializer', rpc.serialize_property.__module__)\n"
    )
    config = StackConfig("probe", "dev", {})
    assert run_program(tmp_path, config).exports == {"serializer": "offline.sdk_wire"}
    assert run_program(tmp_path, config, swap_sdk_helpers=False).exports == {"serializer": "pulumi.runtime.rpc"}


def test_the_modules_the_program_imports_are_loaded_before_the_clock_starts() -> None:
    probe = (
        "import sys; from pathlib import Path\n"
        "from bench.measure import warm_imports\n"
        "from offline.runtime import run_program\n"
        "from offline.stack_config import load_stack_config\n"
        "warm_imports(program_modules=True); before = set(sys.modules)\n"
        "run = run_program(Path('.'), load_stack_config(Path('.'), 'prod', {}))\n"
        "assert run.error is None, run.error\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(n for n in new if n.startswith('pulumi') or n in ('components', 'pydantic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"  # else importing a module would count as render time
