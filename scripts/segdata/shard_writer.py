"""Writes one split as HDF5 shards; docs/data_format.md describes the result.

Shards are written under temporary names; only when every shard is complete do they get their
final names (`<split>-00000-of-000NN.h5`), so an interrupted run never leaves a shard that
looks complete. Timestamps are off, so the same input gives byte-identical files.
"""
import os

import h5py
import numpy as np

FORMAT = "segtrain-shards"
FORMAT_VERSION = 1


def compression_options(name):
    """h5py create_dataset keywords for a compression name."""
    if name == "none":
        return {}
    if name == "gzip":
        return {"compression": "gzip", "compression_opts": 4}
    try:
        import hdf5plugin
    except ImportError as e:  # the setup's environment has it; another Python may not
        raise RuntimeError(f"compression {name!r} needs the hdf5plugin package ({e})") from e
    if name == "lz4":
        return dict(hdf5plugin.LZ4())
    if name == "zstd":  # zstd inside Blosc: Debian's blosc filter plugin reads it too
        return dict(hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.NOSHUFFLE))
    raise ValueError(f"unknown compression {name!r}")


def shard_name(split, index, count):
    return f"{split}-{index:05d}-of-{count:05d}.h5"


class ShardWriter:
    """Collects samples into shards of `shard_size` in `out_dir` (which must exist)."""

    def __init__(self, out_dir, split, shard_size, compression, dataset_attrs):
        self.out_dir, self.split, self.shard_size = out_dir, split, shard_size
        self.compression = compression
        self.filters = compression_options(compression)
        self.attrs = dataset_attrs
        self.temp_files = []
        self.file = None
        self.names, self.shapes = [], []
        self.total = 0

    def _open_next(self):
        path = os.path.join(self.out_dir, f".{self.split}-{len(self.temp_files):05d}.h5.partial")
        self.temp_files.append(path)
        self.file = h5py.File(path, "w", libver=("v108", "v108"), track_order=True)
        self.file.create_group("samples", track_order=True)
        self.names, self.shapes = [], []

    def add(self, name, image, label):
        """image: HxWx3 uint8 RGB; label: HxW uint8 class ids (255 = ignore)."""
        if self.file is None:
            self._open_next()
        h, w = label.shape
        data = np.concatenate([image, label[:, :, None]], axis=2)  # one chunk: RGB + label plane
        self.file["samples"].create_dataset(f"{len(self.names):06d}", data=data, chunks=(h, w, 4),
                                            track_times=False, **self.filters)
        self.names.append(name)
        self.shapes.append((h, w))
        self.total += 1
        if len(self.names) == self.shard_size:
            self._close_current()

    def _close_current(self):
        f = self.file
        f.create_dataset("index/names", data=np.array(self.names, dtype=h5py.string_dtype()), track_times=False)
        f.create_dataset("index/shapes", data=np.array(self.shapes, dtype=np.int32).reshape(-1, 2),
                         track_times=False)
        f.attrs["num_samples"] = len(self.names)
        f.attrs["first_index"] = self.total - len(self.names)
        f.close()
        self.file = None

    def finish(self):
        """Completes the last shard, stamps shard counts, renames all to their final names."""
        if self.file is not None:
            self._close_current()
        count = len(self.temp_files)
        final = []
        for index, path in enumerate(self.temp_files):
            with h5py.File(path, "r+") as f:
                f.attrs["format"] = FORMAT
                f.attrs["format_version"] = FORMAT_VERSION
                f.attrs["split"] = self.split
                f.attrs["shard_index"] = index
                f.attrs["num_shards"] = count
                f.attrs["total_samples"] = self.total
                f.attrs["compression"] = self.compression
                for key, value in self.attrs.items():
                    f.attrs[key] = value
            final.append(os.path.join(self.out_dir, shard_name(self.split, index, count)))
        for path, target in zip(self.temp_files, final):
            os.replace(path, target)
        return final

    def abandon(self):
        if self.file is not None:
            self.file.close()
            self.file = None
        for path in self.temp_files:
            if os.path.exists(path):
                os.remove(path)
