# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Loads the collection's data files (``data/*.yml``) once per process.

The files live at the collection root, two directories above ``plugins/<type>/``.
Only controller-side plugins (filters) use this; PyYAML is imported when a file is first
read, so importing this module needs nothing beyond the standard library.
``load_data`` returns the cached object itself: treat it as read-only and deep-copy
anything handed back to a caller (``load_data_copy`` does that for a whole file).
"""
from __future__ import annotations

import copy
import functools
import os

DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"))


class PlatformDataError(Exception):
    """A data file is missing or malformed."""


@functools.lru_cache(maxsize=None)
def _load(name: str):
    import yaml  # controller-only dependency, see the module docstring

    path = os.path.join(DATA_DIR, f"{name}.yml")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise PlatformDataError(f"cannot read the collection data file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PlatformDataError(f"the collection data file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PlatformDataError(f"the collection data file {path} does not hold a mapping")
    return data


def load_data(name: str) -> dict:
    """Return the parsed ``data/<name>.yml`` (cached; do not modify it)."""
    return _load(name)


def load_data_copy(name: str) -> dict:
    """Return a deep copy of ``data/<name>.yml``."""
    return copy.deepcopy(_load(name))


def data_path(name: str) -> str:
    return os.path.join(DATA_DIR, f"{name}.yml")
