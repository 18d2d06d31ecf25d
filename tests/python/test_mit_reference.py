"""The parity test's torch.nn MiT and SegformerHead (tests/models/mit_reference.py, written from
the SegFormer paper) against MMSegmentation 0.30's own MixVisionTransformer and SegformerHead:
the same weights load under MMSeg's names with strict=True, and the outputs agree. So segtrain,
matching the reference in test_parity.cpp, matches MMSeg."""
import os

from conftest import ROOT, mmseg_reference as mmseg


def test_the_reference_is_mmsegs_segformer():
    diffs = mmseg("mit", os.path.join(ROOT, "tests", "models"))
    assert set(diffs) == {"mit_b0", "mit_b2_small", "segformer_head"}, diffs
    assert all(d < 1e-5 for d in diffs.values()), diffs
