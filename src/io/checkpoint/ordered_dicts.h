#pragma once
// LibTorch's unpickler reads Python's collections.OrderedDict as None (it expects one only as a
// tensor's empty backward hooks), so it cannot read what torch.save writes for a module's
// state_dict(): an OrderedDict, with a `_metadata` attribute set by BUILD (pytorch/pytorch
// #100741). MMCV's checkpoints, its open-mmlab:// weights and torchvision's are such files.
// This rewrites a pickle before torch reads it, with only opcodes torch's unpickler knows (it
// has no POP): each OrderedDict() call becomes torch.jit._pickle.restore_type_tag(({}, T)),
// an empty dict; and a BUILD on such a dict becomes restore_type_tag((dict, T, state)), which
// returns the dict and drops the state (`_metadata`: state_dict versions, which loading ignores).
#include <cstddef>
#include <string>

namespace segtrain::io {

// The pickle with OrderedDicts as plain dicts, or the bytes unchanged when it has none. Assumes
// check_pickle_lengths passed.
std::string plain_dicts(const char* pickle, std::size_t size);

}  // namespace segtrain::io
