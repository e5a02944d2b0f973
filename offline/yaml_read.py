"""Reading YAML: the one safe loader every offline module parses with.

libyaml's loader (`CSafeLoader`) when PyYAML was built with it, which parses the large vendored CRDs and
chart values many times faster; the pure-Python `SafeLoader` otherwise. Both build the same documents.
"""

from __future__ import annotations

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
