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
