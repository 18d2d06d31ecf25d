import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

DEMO = os.path.join(ROOT, "configs", "demo", "fcn_r18-d8_64x64_2k_synthetic.yaml")
# The start of a test's YAML config: the demo's FCN narrowed to seconds on a CPU.
NARROW_DEMO = f"""_base_: {DEMO}
model:
  backbone: {{stem_channels: 16, base_channels: 8}}
  decode_head: {{in_channels: 64, channels: 16}}
  auxiliary_head: {{in_channels: 32, channels: 8}}
"""


def mmseg_reference(*args):
    """tests/python/mmseg_reference/mmseg_side.py in MMSeg's reference environment (made by
    scripts/setup.sh, requirements-reference.txt): its last line of output, as JSON."""
    import json
    import subprocess

    import pytest
    cache = os.environ.get("SEGTRAIN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "segtrain")
    env_dir = os.path.join(cache, "mmseg-reference")
    if not os.path.isfile(os.path.join(env_dir, ".segtrain-stamp")):
        pytest.fail(f"{env_dir}: the MMSeg reference environment is missing; run scripts/setup.sh")
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmseg_reference")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([os.path.join(here, "stubs"), env_dir]))
    p = subprocess.run([sys.executable, os.path.join(here, "mmseg_side.py"), *map(str, args)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def synthetic_shards(root, train, val, size, num_classes=8):
    """scripts/make_synthetic_dataset.py's PNGs (Cityscapes' layout) in root/png, and the shards
    convert_dataset.py makes of them in root/shards (returned)."""
    import subprocess
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_synthetic_dataset.py"), root / "png",
                    "--train", str(train), "--val", str(val), "--size", size, "--num-classes", str(num_classes)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "convert_dataset.py"), "cityscapes",
                    root / "png", root / "shards", "--num-classes", str(num_classes), "--workers", "1"],
                   check=True, capture_output=True)
    return root / "shards"
