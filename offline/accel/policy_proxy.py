"""The `policy-proxy` accelerator: a lazy stand-in for pulumi-policy's `unknown_checking_proxy`, for the
in-process policy run.

pulumi-policy wraps a resource's properties, once per policy, in proxies that raise
`UnknownValueError` when a policy reads a value unknown during preview. Its proxies are built
eagerly: the whole property tree is copied, with a path list per node, for every policy and every
resource, although a policy reads a handful of fields. These proxies wrap a node only when a policy reads it, and
behave the same: the same classes (subclasses, so pulumi-policy's own `isinstance` checks and
`["__target"]` unwrapping hold), the same errors with the same paths, and writes that stay inside the
one proxy tree (the shared, deserialised properties are never changed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import proxy as _proxy


def unknown_checking_proxy(props: dict[str, Any]) -> Any:
    return _wrap(props, [])


def _wrap(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        return LazyListProxy(value, path)
    if isinstance(value, dict):
        return LazyDictProxy(value, path)
    return value


# pulumi-policy's _is_unknown: a string that is one of the engine's unknown sentinels.
_UNKNOWNS = frozenset(
    (
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    )
)


def _checked(key: Any, value: Any, path: list[str]) -> Any:
    if isinstance(value, str) and value in _UNKNOWNS:
        raise _proxy.UnknownValueError(value, [*path, str(key)])
    return value


def _child(proxy: LazyDictProxy | LazyListProxy, key: Any) -> Any:
    """A container is wrapped once, on its first read, and kept; any other value is read through."""
    if key in proxy._seen:
        return proxy._seen[key]
    value = proxy._target[key]
    if isinstance(value, (list, dict)):
        value = proxy._seen[key] = _wrap(value, [*proxy._path, str(key)])
    return value


class LazyDictProxy(_proxy._DictProxy):
    def __init__(self, target: dict[str, Any], path: list[str]) -> None:  # no super(): nothing is copied
        self._target = target  # shared with other policies' proxies: never written
        self._path = path
        self._seen: dict[Any, Any] = {}  # key -> wrapped container, or a value written through this proxy
        self._added: list[Any] = []  # keys written that the target lacks, in order

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            return {k: _child(self, k) for k in self}
        return _checked(key, _child(self, key), self._path)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self._target and key not in self._seen:
            self._added.append(key)
        self._seen[key] = value

    def __len__(self) -> int:
        return len(self._target) + len(self._added)

    def __iter__(self) -> Iterator[Any]:
        yield from self._target
        yield from self._added


class LazyListProxy(_proxy._ListProxy):
    def __init__(self, target: list[Any], path: list[str]) -> None:
        self._target = target
        self._path = path
        self._seen: dict[int, Any] = {}  # index -> wrapped container

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and key == "__target":
            return [_child(self, i) for i in range(len(self._target))]
        if isinstance(key, slice):  # like a list of proxies sliced: the elements, unchecked
            return [_child(self, i) for i in range(*key.indices(len(self._target)))]
        self._target[key]  # IndexError / TypeError exactly as the list raises them
        index = key + len(self._target) if key < 0 else key
        return _checked(key, _child(self, index), self._path)

    def __iter__(self) -> Iterator[Any]:
        """What Sequence's __iter__ does (self[0], self[1], ... until IndexError), without its detours."""
        for index in range(len(self._target)):
            yield _checked(index, _child(self, index), self._path)

    def __len__(self) -> int:
        return len(self._target)
