"""Tells meson where LibTorch is and how it was built, one `key=value` a line.

Without an argument it asks the running Python's `torch` package (the PyPI wheel); with a
directory it describes an unzipped LibTorch there. Uses only the standard library in that case.
"""
import os
import re
import sys


def wheel_extras(torch_root):
    """Header/library folders of the CUDA runtime and NCCL wheels that torch itself loads."""
    nvidia = os.path.join(os.path.dirname(torch_root), "nvidia")
    found = {}
    for key, sub in (("cuda", "cu13"), ("cuda", "cuda_runtime"), ("nccl", "nccl")):
        d = os.path.join(nvidia, sub)
        if key not in found and os.path.isdir(os.path.join(d, "include")):
            found[key] = d
    return found


def main():
    if len(sys.argv) > 1:
        root = os.path.abspath(sys.argv[1])
        cfg = os.path.join(root, "share", "cmake", "Torch", "TorchConfig.cmake")
        text = open(cfg).read() if os.path.exists(cfg) else ""
        m = re.search(r"_GLIBCXX_USE_CXX11_ABI=([01])", text)
        abi = m.group(1) if m else "1"
        version_file = os.path.join(root, "build-version")
        version = open(version_file).read().strip() if os.path.exists(version_file) else "unknown"
    else:
        import torch

        root = os.path.dirname(torch.__file__)
        abi = str(int(torch._C._GLIBCXX_USE_CXX11_ABI))
        version = torch.__version__
    lib = os.path.join(root, "lib")
    has_cuda = os.path.exists(os.path.join(lib, "libtorch_cuda.so"))
    print(f"root={root}")
    print(f"version={version}")
    print(f"cxx11_abi={abi}")
    print(f"cuda={'1' if has_cuda else '0'}")
    for key, d in wheel_extras(root).items():
        print(f"{key}_dir={d}")


if __name__ == "__main__":
    main()
