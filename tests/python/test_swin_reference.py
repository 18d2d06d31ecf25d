"""The parity test's torch.nn Swin (tests/models/swin_reference.py, written from the Swin paper)
against MMSegmentation 0.30's own SwinTransformer: the same weights load under MMSeg's names with
strict=True, and the stage outputs agree, also at a size that pads every level. So segtrain,
matching the reference in test_parity.cpp, matches MMSeg."""
import os

from conftest import ROOT, mmseg_reference as mmseg


def test_the_reference_is_mmsegs_swin():
    diffs = mmseg("swin", os.path.join(ROOT, "tests", "models"))
    assert set(diffs) == {"swin_t_72x72", "swin_t_70x61", "swin_s_small_72x72"}, diffs
    assert all(d < 1e-5 for d in diffs.values()), diffs
