#include "segtrain/dist/checkpoint_sync.h"

#include <fstream>
#include <sstream>

#include "segtrain/core/error.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"
#include "segtrain/io/atomic_file.h"

namespace segtrain::dist {

void save_on_main(const World& world, const std::filesystem::path& target,
                  const std::function<std::string()>& serialize) {
  world.run_on_main([&] { io::write_file_atomic(target, serialize()); });
}

std::string read_on_main(const World& world, const std::filesystem::path& file) {
  std::string bytes;
  world.run_on_main([&] {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw user_error(file.string(), "cannot read the checkpoint");
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  });
  return broadcast_bytes(world, std::move(bytes));
}

}  // namespace segtrain::dist
