// A main() for fuzz targets built without libFuzzer: runs the target once over every file
// named on the command line or found in a directory named there (the seeds and regressions
// kept in tests/fuzz/<target>/), so that ctest keeps fixed crashes fixed with any compiler.
// A missing path fails: a replay that finds nothing to run proves nothing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_check.h"

namespace fs = std::filesystem;

namespace {

void replay(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    std::cerr << "cannot read " << file << "\n";
    std::exit(1);
  }
  // A copy sized exactly, so AddressSanitizer sees reads past the end as libFuzzer's does.
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path path(argv[i]);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const fs::directory_entry& entry : fs::directory_iterator(path))
        // Dot files (.gitkeep keeps an empty regressions/ in git) are not inputs.
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
          files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& file : files) {
        replay(file);
        ++count;
      }
    } else if (fs::is_regular_file(path, ec)) {
      replay(path);
      ++count;
    } else {
      std::cerr << "no such file or directory: " << path << "\n";
      return 1;
    }
  }
  if (count == 0) {
    std::cerr << "no inputs to replay\n";
    return 1;
  }
  std::cout << "replayed " << count << " inputs\n";
  return 0;
}
