"""Run profiles: the same notebook code at three sizes.

========  ======================================  ============================================
profile   who                                     aim
========  ======================================  ============================================
smoke     CI and ``pytest``                       every code path runs; seconds
cpu       a laptop without GPU                    real data, reaches the headline result; minutes
gpu       Colab with a GPU runtime                book-scale sizes and epochs
========  ======================================  ============================================

The profile is chosen automatically (a GPU → ``gpu``, otherwise ``cpu``); ``COURSE_PROFILE`` overrides it.
A profile changes sizes and epochs only, never code paths: a notebook declares its sizes for all three
profiles in one :func:`budget` call and reads them from the result.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

PROFILES = ("smoke", "cpu", "gpu")


class ProfileError(ValueError):
    """An unknown profile name, or a budget table that does not fit the profiles."""


def validate_profile(name: str) -> str:
    """Return ``name`` normalised (stripped, lower case) or raise :class:`ProfileError` listing valid ones."""
    value = str(name).strip().lower()
    if value not in PROFILES:
        raise ProfileError(f"unknown profile {name!r}; valid profiles are: {', '.join(PROFILES)}")
    return value


def get_profile(has_gpu: bool | None = None) -> str:
    """The active profile: ``$COURSE_PROFILE`` if set, else ``gpu`` when a GPU is found, else ``cpu``.

    ``has_gpu`` skips the GPU probe (used by tests); by default :func:`utils.device.has_gpu` decides.
    """
    override = os.environ.get("COURSE_PROFILE", "").strip()
    if override:
        return validate_profile(override)
    if has_gpu is None:
        from .device import has_gpu as _has_gpu

        has_gpu = _has_gpu()
    return "gpu" if has_gpu else "cpu"


def budget(
    smoke: dict[str, Any], cpu: dict[str, Any], gpu: dict[str, Any], *, profile: str | None = None, show: bool = True
) -> SimpleNamespace:
    """Pick this profile's sizes from a per-profile table and return them as attributes.

    >>> B = budget(smoke=dict(epochs=1, n=500), cpu=dict(epochs=5, n=60000), gpu=dict(epochs=20, n=60000),
    ...            profile="smoke", show=False)
    >>> B.epochs, B.n
    (1, 500)

    All three tables must have the same keys (a size missing from one profile is a bug waiting for that
    profile). With ``show=True`` the whole table is printed with the active column marked.
    """
    tables = {"smoke": dict(smoke), "cpu": dict(cpu), "gpu": dict(gpu)}
    keys = list(tables["smoke"])
    for name, table in tables.items():
        if set(table) != set(keys):
            missing = sorted(set(keys) ^ set(table))
            raise ProfileError(f"budget: profile {name!r} does not have the same keys as 'smoke' (differ: {missing})")
    active = validate_profile(profile) if profile is not None else get_profile()
    if show:
        print(format_budget(tables, active))
    return SimpleNamespace(profile=active, **tables[active])


def format_budget(tables: dict[str, dict[str, Any]], active: str) -> str:
    """The budget as a small text table, the active profile's column marked with ``*``."""
    keys = list(tables["smoke"])
    heads = [f"{p}{'*' if p == active else ''}" for p in PROFILES]
    width = max([len(k) for k in keys] + [6])
    cols = [max([len(h)] + [len(f"{tables[p][k]:,}" if isinstance(tables[p][k], int) else str(tables[p][k]))
                            for k in keys]) for h, p in zip(heads, PROFILES)]

    def fmt(v: Any) -> str:
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)

    lines = [f"{'budget':<{width}}  " + "  ".join(f"{h:>{c}}" for h, c in zip(heads, cols))]
    for k in keys:
        lines.append(f"{k:<{width}}  " + "  ".join(f"{fmt(tables[p][k]):>{c}}" for p, c in zip(PROFILES, cols)))
    lines.append(f"(active profile: {active}; set COURSE_PROFILE to change it)")
    return "\n".join(lines)
