"""Dependencies point one way (docs/architecture.md): a layer includes only the layers below it,
and MPI and NCCL stay behind dist/'s interface: no public header outside dist/ reaches <mpi.h>
or <nccl.h>, even through another header."""
import os
import re
import sys

from conftest import ROOT

# Each layer and the layers it may include (docs/architecture.md has the same table).
ALLOWED = {
    "core": set(),
    "config": {"core"},
    "dist": {"core"},
    "data": {"core", "config"},
    "models": {"core", "config", "dist"},
    "io": {"core", "config", "dist"},
    "eval": {"core", "config", "dist", "data", "models", "io"},
    "engine": {"core", "config", "dist", "data", "models", "io", "eval"},
    "tools": {"core", "config", "dist", "data", "models", "io", "eval", "engine"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
BACKENDS = {"mpi.h", "nccl.h"}


def sources():
    """(layer, path relative to ROOT, text) of every header and source of the library."""
    for top in ("include/segtrain", "src"):
        base = os.path.join(ROOT, top)
        for folder, _, files in os.walk(base):
            layer = os.path.relpath(folder, base).split(os.sep)[0]
            if layer not in ALLOWED:
                continue  # src/pch, src/meson.build's folder
            for name in files:
                if name.endswith((".h", ".cpp")):
                    path = os.path.join(folder, name)
                    with open(path) as f:
                        yield layer, os.path.relpath(path, ROOT), f.read()


def test_the_table_names_every_layer():
    found = set(os.listdir(os.path.join(ROOT, "include/segtrain")))
    assert found == set(ALLOWED), f"layers on disk {sorted(found)}; the table knows {sorted(ALLOWED)}"


def test_includes_point_down_the_stack():
    wrong = []
    for layer, path, text in sources():
        for target in INCLUDE.findall(text):
            if target.startswith(".."):
                wrong.append(f"{path}: {target} (include by the segtrain/<layer>/ path)")
            m = re.match(r"segtrain/([a-z_]+)/", target)
            if m and m.group(1) != layer and m.group(1) not in ALLOWED[layer]:
                wrong.append(f"{path}: {layer} includes {target}")
    assert not wrong, "includes that point up the stack:\n" + "\n".join(wrong)


def test_no_public_header_outside_dist_reaches_mpi_or_nccl():
    include_root = os.path.join(ROOT, "include")
    headers = {}
    for folder, _, files in os.walk(os.path.join(include_root, "segtrain")):
        for name in files:
            path = os.path.join(folder, name)
            with open(path) as f:
                headers[os.path.relpath(path, include_root)] = INCLUDE.findall(f.read())

    def reaches_backend(header, seen):
        if header in seen:
            return None
        seen.add(header)
        for target in headers.get(header, []):
            if target in BACKENDS:
                return [header, target]
            chain = reaches_backend(target, seen)
            if chain:
                return [header] + chain
        return None

    leaks = []
    for header in headers:
        if not header.startswith("segtrain/dist/"):
            chain = reaches_backend(header, set())
            if chain:
                leaks.append(" -> ".join(chain))
    assert not leaks, "public headers that expose MPI or NCCL:\n" + "\n".join(leaks)


def test_the_check_sees_a_wrong_include(tmp_path, monkeypatch):
    # The rule itself: a dist/ file that includes io/ is reported.
    src = tmp_path / "src" / "dist"
    src.mkdir(parents=True)
    (src / "bad.cpp").write_text('#include "segtrain/io/atomic_file.h"\n')
    for layer in ALLOWED:
        (tmp_path / "include" / "segtrain" / layer).mkdir(parents=True)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    try:
        test_includes_point_down_the_stack()
    except AssertionError as e:
        assert "src/dist/bad.cpp: dist includes segtrain/io/atomic_file.h" in str(e)
    else:
        raise AssertionError("the wrong include was not reported")
