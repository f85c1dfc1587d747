"""Writing a mirror for a lab without internet, and what ``python -m utils.data list`` shows."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..paths import data_dir, mirror_dir
from .registry import REGISTRY, get_dataset
from .store import (
    _SUMS_CACHE,
    _read_stamp,
    _stamp_ok,
    dataset_files,
    fetch,
    file_hash,
    mirror_problem,
    mirror_sums,
    write_atomic,
)


def write_mirror(dest: str | os.PathLike, names: Iterable[str] | None = None) -> Path:
    """Copy the named datasets (all by default) into ``dest`` in mirror layout and write ``dest/SHA256SUMS``.

    The files come from the current mirror, the cache or a download. Archive datasets are written extracted,
    as a mirror holds them (only their verified files). Existing entries of ``dest/SHA256SUMS`` for other files
    are kept.
    """
    if isinstance(names, (str, bytes)):
        raise TypeError(f"names is a list of dataset names, e.g. [{names!r}], not one string")
    chosen = list(names) if names is not None else list(REGISTRY)
    for name in chosen:
        get_dataset(name)  # unknown names fail before anything is written
    dest = Path(dest).resolve()
    src_mirror = mirror_dir()
    if src_mirror is not None and src_mirror == dest:
        raise ValueError("the destination is the mirror being read: choose another folder")
    dest.mkdir(parents=True, exist_ok=True)
    sums = mirror_sums(dest) if (dest / "SHA256SUMS").is_file() else {}
    for name in chosen:
        ds = get_dataset(name)
        if ds.extracted:
            folder = dataset_files(name)
            pairs = [(folder.path / rel, f"{ds.extracted}/{rel}") for rel in folder.files]
        else:
            pairs = [(p, f.path) for p, f in zip(fetch(name), ds.files)]
        for src, rel in pairs:
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.resolve() != src.resolve():
                shutil.copyfile(src, out)
            sums[rel] = file_hash(out)
        print(f"{name}: {len(pairs)} file(s) written to {dest}")
    lines = [f"{digest}  {rel}\n" for rel, digest in sorted(sums.items())]
    write_atomic(dest / "SHA256SUMS", "".join(lines))
    _SUMS_CACHE.pop(dest / "SHA256SUMS", None)
    return dest / "SHA256SUMS"


def status_lines() -> list[str]:
    """One line per dataset: where it would come from now (mirror / cache / missing), without downloading or
    hashing (a listed mirror file counts only if it exists; an extracted folder only with its marker)."""
    mirror = mirror_dir()
    sums = mirror_sums(mirror) if mirror and not mirror_problem() else {}
    lines = []
    for ds in REGISTRY.values():
        if ds.extracted:
            listed = [rel for rel in sums if rel.startswith(ds.extracted + "/")]
            in_mirror = bool(listed) and all((mirror / rel).is_file() for rel in listed)
            out = data_dir() / ds.extracted
            in_cache = _stamp_ok(out, _read_stamp(out), None)
        else:
            in_mirror = all(f.path in sums and (mirror / f.path).is_file() for f in ds.files)
            in_cache = all((data_dir() / f.path).is_file() for f in ds.files)
        where = "mirror" if in_mirror else "cache" if in_cache else "not here yet (download on first use)"
        lines.append(f"{ds.name:<16} {where:<10}  {ds.title}")
    return lines
