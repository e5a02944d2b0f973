"""Malformed stack files: each is a config error (exit 2, one line naming the file and the line, no
traceback, nothing registered), never a crash, a hang or a silent choice (issue 19).

The fixtures below each break a file one way; the property test at the end writes whole files (random
bytes, YAML token soup, odd structures, the staging file broken in one place) and runs each through the
preview's loading path.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from helpers import program_with_stack, run_preview
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.yaml_read import MAX_DEPTH, MAX_VALUES, load_strict
from offline.preview import PreviewResult

STACK = "staging"  # the name the files are written under: a valid one previews with staging's policy config
STAGING = (REPO / "Pulumi.staging.yaml").read_bytes()

# Nine aliases of nine aliases ...: 9**9 (387 million) strings from nine short lines.
BILLION_LAUGHS = b'config:\n  gatehouse:a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    f"  gatehouse:{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n".encode()
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real program, whose stack file each test overwrites."""
    return program_with_stack(tmp_path_factory.mktemp("files"), STACK, {})


def _preview(program: Path, content: bytes) -> tuple[PreviewResult, str]:
    (program / f"Pulumi.{STACK}.yaml").write_bytes(content)
    return run_preview(program, program.parent / "out", stack=STACK, policy_config=REPO / "policy" / f"{STACK}.json")


def _refused(program: Path, content: bytes) -> str:
    """The one line the preview printed for a file it refused before running anything."""
    result, printed = _preview(program, content)
    assert result.exit_code == 2, printed
    assert result.run is None, "the program ran"  # so nothing was registered
    assert printed.count("\n") == 1 and printed.startswith(f"error: {program / f'Pulumi.{STACK}.yaml'}: "), printed
    assert "Traceback" not in printed
    assert not [p for p in (program.parent / "out").rglob("*") if p.is_file()]
    return printed.split(": ", 2)[2].rstrip("\n")


def _staging_with(old: bytes, new: bytes) -> bytes:
    assert STAGING.count(old) == 1, old
    return STAGING.replace(old, new)


def _line_of(content: bytes, fragment: bytes, occurrence: int = 1) -> int:
    at = -1
    for _ in range(occurrence):
        at = content.index(fragment, at + 1)
    return content[:at].count(b"\n") + 1


# --- each class of malformed file ------------------------------------------------------------------


def test_a_key_given_twice_is_refused_at_its_second_line(program: Path) -> None:
    """YAML parsers keep the last of two equal keys; a reviewer reads the first."""
    content = _staging_with(b"  gatehouse:environment: staging\n", b"  gatehouse:environment: staging\n" * 2)
    line = _line_of(content, b"gatehouse:environment", 2)
    assert _refused(
        program, content
    ) == f"line {line}: duplicate key 'gatehouse:environment' (first at line {line - 1})" + (": the last would win")


def test_a_nested_key_given_twice_is_refused(program: Path) -> None:
    content = _staging_with(
        b"    adminEmail: platform-admin@example.com\n",
        b"    adminEmail: a@example.com\n    adminEmail: b@example.com\n",
    )
    assert f"line {_line_of(content, b'adminEmail: b@')}: duplicate key 'adminEmail'" in _refused(program, content)


def test_a_key_given_twice_in_a_flow_mapping_is_refused(program: Path) -> None:
    content = _staging_with(b"service: {name: grafana, port: 80}", b"service: {name: grafana, port: 80, port: 8080}")
    assert "duplicate key 'port'" in _refused(program, content)


def test_equal_keys_of_different_spelling_are_one_key(program: Path) -> None:
    """`1` and `true` are the same Python key: one would silently replace the other."""
    assert "duplicate key True" in _refused(program, b"config:\n  1: a\n  true: b\n")


def test_an_alias_bomb_is_refused_at_once(program: Path) -> None:
    start = time.perf_counter()
    message = _refused(program, BILLION_LAUGHS)
    assert time.perf_counter() - start < 5
    assert f"expands to more than {MAX_VALUES:,} values" in message


def test_an_alias_inside_its_own_anchor_is_refused(program: Path) -> None:
    assert _refused(program, b"config:\n  gatehouse:apps: &a [*a]\n") == "line 2: alias *a is inside its own anchor"


def test_an_alias_without_an_anchor_is_refused(program: Path) -> None:
    assert "alias *nowhere names no anchor before it" in _refused(program, b"config:\n  gatehouse:apps: *nowhere\n")


def test_a_few_aliases_are_still_yaml(tmp_path: Path) -> None:
    """What yaml.safe_dump writes for a value used twice: the engine reads it, and so does the preview."""
    shared = ["read"]
    text = yaml.safe_dump({"config": {"a": shared, "b": shared, "c": datetime.date(2026, 1, 2)}})
    assert "&id001" in text
    assert load_strict(text) == {"config": {"a": ["read"], "b": ["read"], "c": "2026-01-02"}}


def test_a_byte_that_is_not_utf8_is_refused_with_its_line(program: Path) -> None:
    content = _staging_with(b"displayName: ACME Corporation", b"displayName: ACME Corpor\xe9tion")
    line = _line_of(content, b"\xe9")
    assert _refused(program, content) == f"line {line}: not UTF-8 (byte 0xe9)"


def test_utf16_is_not_utf8(program: Path) -> None:
    assert _refused(program, "config: {}\n".encode("utf-16")) == "line 1: not UTF-8 (byte 0xff)"


def test_a_byte_order_mark_is_allowed(program: Path) -> None:
    # and the empty config that follows it is the program's to judge
    result, printed = _preview(program, b"\xef\xbb\xbfconfig: {}\n")
    assert result.exit_code == 2 and printed.startswith("error: invalid stack configuration"), printed


def test_a_control_character_is_refused_with_its_line(program: Path) -> None:
    assert _refused(program, b"config:\n  gatehouse:domain: a\x07b\n").startswith("line 2: not valid YAML")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"config:\n  - gatehouse:domain: example.com\n", "config must be a mapping, not a list"),
        (b"config: example.com\n", "config must be a mapping, not a string"),
        (b"config: 3\n", "config must be a mapping, not a number"),
        (b"- config\n", "expected a mapping at the top level, not a list"),
        (b"just words\n", "expected a mapping at the top level, not a string"),
        (b"config:\n  7: a\n", "config: 7 is not a config key (`<namespace>:<name>` or `<name>`)"),
        (
            b"config:\n  ? [a, b]\n  : 1\n",
            "line 2, column 5: not valid YAML (while constructing a mapping found unhashable key)",
        ),
        (b"config:\n  gatehouse:a b: 1\n", "config: 'gatehouse:a b' is not a config key"),
        (b"config:\n  a:b:c: 1\n", "config: 'a:b:c' is not a config key"),
        (b"config:\n  gatehouse:x: !!binary aGVsbG8=\n", "gatehouse:x: not a value config can hold"),
        (b"config:\n  gatehouse:x: !!set {a, b}\n", "gatehouse:x: not a value config can hold"),
        (b"config:\n  gatehouse:x: !!python/object:os.system {}\n", "line 2, column 16: not valid YAML"),
        (b"config:\n  gatehouse:cloudflareApiToken:\n    secure: [1]\n", "`secure` must hold the encrypted string"),
        (b"config:\n  gatehouse:x: " + b"9" * 5000 + b"\n", "line 2: not a valid !!int value"),
        (b"config:\n  gatehouse:x: [1,\n", "line 3, column 1: not valid YAML"),
        (b"config:\n\tgatehouse:x: 1\n", "line 2, column 1: not valid YAML"),
        (b"config: {}\n---\nconfig: {}\n", "line 2: more than one document"),
        (b"config:\n  gatehouse:x: " + b"[" * 100 + b"]" * 100 + b"\n", f"nested deeper than {MAX_DEPTH} levels"),
    ],
)
def test_a_malformed_file_is_one_line(program: Path, content: bytes, message: str) -> None:
    assert message in _refused(program, content)


def test_a_list_where_the_project_file_has_a_mapping(tmp_path: Path) -> None:
    program = program_with_stack(tmp_path, STACK, {})
    (program / "Pulumi.yaml").unlink()  # a symlink to the real one
    (program / "Pulumi.yaml").write_text("name: gatehouse\nruntime: python\nconfig: [a]\n")
    result, printed = run_preview(program, tmp_path / "out", stack=STACK)
    assert result.exit_code == 2 and result.run is None
    assert printed == f"error: {program / 'Pulumi.yaml'}: config must be a mapping, not a list\n"


@pytest.mark.parametrize("content", [BILLION_LAUGHS, b"config:\n  gatehouse:x: " + b"[" * 1_000_000 + b"]" * 1_000_000])
def test_the_command_line_survives_what_once_hung_or_crashed_it(tmp_path: Path, content: bytes) -> None:
    """A process of its own: the deep nesting overflowed libyaml's recursive composer, killing the process."""
    program = program_with_stack(tmp_path, STACK, {})
    (program / f"Pulumi.{STACK}.yaml").write_bytes(content)
    argv = [sys.executable, "-m", "offline", "--stack", STACK, "--program", str(program), "--out", str(tmp_path / "o")]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("error: "), proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


# --- whole files, generated ------------------------------------------------------------------------

TOKENS = [
    "config:", "gatehouse:domain", "gatehouse:tenants", "gatehouse:network", "privateRanges", "name", "a", "1",
    ": ", ":", "\n", "  ", "    ", "- ", "-", "[", "]", "{", "}", ", ", "'", '"', "#", "? ", "|", ">", "&a ", "*a",
    "&b ", "*b", "!!binary ", "!!set ", "!!str ", "!!int ", "!!map ", "!!seq ", "!!timestamp ", "<<: ", "---\n",
    "...\n", "\t", "~", "null", "true", "2026-01-02", ".nan", "1e999", "0x1f", "%YAML 1.1\n", "\\", "\x00", "\ufeff",
    "é", "\u2028",
]  # fmt: skip

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.dates(),
    st.frozensets(st.integers(0, 3), max_size=2).map(set),
)
keys = st.one_of(
    st.text(max_size=12), st.integers(), st.booleans(), st.none(), st.sampled_from(["gatehouse:domain", "config"])
)
structures = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=12
)


@st.composite
def odd_structure(draw: st.DrawFn) -> bytes:
    """Well-formed YAML of the wrong shape: a list or scalar where a mapping belongs, odd keys and values."""
    config = draw(structures)
    top = draw(st.sampled_from(["config", "bare", "nested"]))
    document = (
        {"config": config} if top == "config" else config if top == "bare" else {"config": {"gatehouse:x": config}}
    )
    return yaml.safe_dump(document, allow_unicode=draw(st.booleans())).encode()


@st.composite
def broken_staging(draw: st.DrawFn) -> bytes:
    """The staging file, broken in one place (each way always breaks it)."""
    lines = STAGING.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["byte", "duplicate", "bomb", "config", "control", "alias"]))
    if how == "byte":  # a byte no UTF-8 text has
        line = lines[at]
        cut = draw(st.integers(0, len(line)))
        lines[at] = line[:cut] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80", b"\xed\xa0\x80"])) + line[cut:]
    elif how == "duplicate":  # a mapping key of the file given again at once
        key_lines = [i for i, line in enumerate(lines) if b": " in line and not line.lstrip().startswith((b"#", b"- "))]
        at = draw(st.sampled_from(key_lines))
        lines.insert(at, lines[at])
    elif how == "bomb":
        lines = [BILLION_LAUGHS, *lines[1:]]  # under `config:`, before the rest of it
    elif how == "config":  # `config:` as a list, a string, a number
        lines[1] = draw(st.sampled_from([b"config:\n  - x\n", b"config: x\n", b"config: 1\n"])) + lines[1]
        lines = lines[1:] if lines[0].startswith(b"#") else lines
    elif how == "control":
        lines[at] = lines[at].rstrip(b"\n") + draw(st.sampled_from([b"\x00", b"\x07", b"\x1b"])) + b"\n"
    else:  # an alias of an anchor never set
        lines.insert(1 + at, b"  gatehouse:extra: *missing\n" if at < len(lines) - 1 else b"")
        lines.append(b"  gatehouse:more: *missing\n")
    return b"".join(lines)


stack_files = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(lambda tokens: "".join(tokens).encode()),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(
        lambda tokens: ("config:\n  " + "".join(tokens)).encode("latin-1", "replace")
    ),
    odd_structure(),
    broken_staging(),
)


def _check(result: PreviewResult, printed: str, stack_file: Path) -> None:
    assert "Traceback" not in printed and "the program failed" not in printed, printed
    if result.exit_code == 0:
        return
    assert result.exit_code == 2, printed
    lines = printed.splitlines()
    if result.run is None:  # the file itself: refused before the program runs
        assert len(lines) == 1 and lines[0].startswith(f"error: {stack_file}: "), printed
        return
    # a file the engine would read: the program names every bad value, before registering anything
    assert lines[0].startswith("error: invalid stack configuration (") and all(
        line.startswith("  gatehouse:") for line in lines[1:]
    ), printed
    assert [r.type for r in result.run.registrations] == ["pulumi:pulumi:Stack"]


@settings(
    max_examples=1500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(stack_files)
@example(STAGING)  # the file itself: previews clean
def test_every_generated_stack_file_is_previewed_or_refused_in_one_line(program: Path, content: bytes) -> None:
    result, printed = _preview(program, content)
    _check(result, printed, program / f"Pulumi.{STACK}.yaml")
    if content == STAGING:
        assert result.exit_code == 0, printed
