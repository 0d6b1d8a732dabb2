#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/error.h"
#include "support/test_support.h"

namespace scenery {
namespace {
namespace fs = std::filesystem;
using testing::read_text;
using testing::TempDir;

TEST(AtomicFile, ReplacesContent) {
  TempDir dir;
  write_file_atomic(dir / "f.txt", "one");
  write_file_atomic(dir / "f.txt", "two");
  EXPECT_EQ(read_text(dir / "f.txt"), "two");
}

TEST(AtomicFile, FailedWriteLeavesPreviousFileIntactAndNoTempBehind) {
  TempDir dir;
  write_file_atomic(dir / "last.ckpt", "good weights");
  EXPECT_THROW(replace_file_atomic(dir / "last.ckpt",
                                   [](const fs::path& temp) {
                                     testing::write_text(temp, "half of the new wei");
                                     throw IoError("No space left on device");
                                   }),
               IoError);
  EXPECT_EQ(read_text(dir / "last.ckpt"), "good weights");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path()))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, UnwritableDirectoryIsAnIoErrorNamingIt) {
  TempDir dir;
  testing::write_text(dir / "plainfile", "x");
  try {
    ensure_writable_directory(dir / "plainfile" / "run");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("plainfile/run"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scenery
