"""Python side of segtrain's data: dataset layouts, class metadata, the HDF5 shard writer."""
