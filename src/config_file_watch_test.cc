// ConfigFileWatch against real inotify in a temporary directory: a rewrite, an editor's
// write-and-rename and a burst of writes each call back once after the settle time; changes
// to other files of the directory do not. Bounded: the io_context runs for a fixed time.
#include "config_file_watch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sluice {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ConfigFileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-watch-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    file_ = (dir_ / "sluice.yaml").string();
    Write(file_, "models: []\n");
    std::string error;
    watch_ = ConfigFileWatch::Start(
        io_, file_, milliseconds(50), [this] { ++changes_; }, error);
    ASSERT_NE(watch_, nullptr) << error;
  }
  void TearDown() override {
    watch_.reset();
    fs::remove_all(dir_);
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  // Runs the loop long enough for events to arrive and the settle time to pass.
  void RunFor(milliseconds duration) {
    io_.restart();
    io_.run_for(duration);
  }

  boost::asio::io_context io_;
  fs::path dir_;
  std::string file_;
  std::unique_ptr<ConfigFileWatch> watch_;
  int changes_ = 0;
};

TEST_F(ConfigFileWatchTest, ARewriteCallsBackOnce) {
  Write(file_, "models: [] # 2\n");
  RunFor(milliseconds(300));
  EXPECT_EQ(changes_, 1);
}

TEST_F(ConfigFileWatchTest, AWriteAndRenameCallsBackOnce) {
  std::string temp = (dir_ / ".sluice.yaml.swp").string();
  Write(temp, "models: [] # 3\n");
  ASSERT_EQ(std::rename(temp.c_str(), file_.c_str()), 0);
  RunFor(milliseconds(300));
  EXPECT_EQ(changes_, 1);
}

TEST_F(ConfigFileWatchTest, ABurstOfWritesSettlesIntoOneCallBack) {
  for (int i = 0; i < 5; ++i) Write(file_, "models: [] # " + std::to_string(i) + "\n");
  RunFor(milliseconds(300));
  EXPECT_EQ(changes_, 1);
}

TEST_F(ConfigFileWatchTest, OtherFilesOfTheDirectoryAreIgnored) {
  Write((dir_ / "access.log").string(), "a line\n");
  Write((dir_ / "other.yaml").string(), "x: 1\n");
  RunFor(milliseconds(300));
  EXPECT_EQ(changes_, 0);
}

TEST_F(ConfigFileWatchTest, AKubernetesDataSymlinkSwapCallsBack) {
  fs::create_directory_symlink(dir_, dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  RunFor(milliseconds(300));
  EXPECT_EQ(changes_, 1);
}

TEST(ConfigFileWatch, AMissingDirectoryIsAnError) {
  boost::asio::io_context io;
  std::string error;
  auto watch = ConfigFileWatch::Start(
      io, "/nonexistent-sluice-dir/sluice.yaml", milliseconds(50), [] {}, error);
  EXPECT_EQ(watch, nullptr);
  EXPECT_NE(error.find("/nonexistent-sluice-dir"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
