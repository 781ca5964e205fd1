// Tests of LineSink: lines reach a file in order, Flush waits for them, sinks are shared
// per destination, a destination that stops draining makes lines drop (counted) instead of
// blocking the writer, and file rotation by size and age (an injected clock) keeps lines
// whole and the number of files bounded. No sleeps: a pipe nobody reads stands in for a
// stuck destination.
#include "observability/line_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/file_lines.h"

namespace sluice {
namespace {

using sluice::testing::ReadLines;

// "00000042 yyyy…\n", `size` bytes in all: a line that shows its number and whether it is whole.
std::string NumberedLine(uint64_t n, size_t size) {
  std::string number = std::to_string(n);
  std::string line(8 - std::min<size_t>(8, number.size()), '0');
  line += number;
  line += ' ';
  line.resize(size - 1, 'y');
  line += '\n';
  return line;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The files of a rotated log, oldest first: path.N … path.1, path.
std::vector<std::string> RotatedFiles(const std::string& path, int max_index) {
  std::vector<std::string> files;
  for (int i = max_index; i >= 1; --i) {
    std::string file = path + "." + std::to_string(i);
    if (Exists(file)) files.push_back(file);
  }
  if (Exists(path)) files.push_back(path);
  return files;
}

void RemoveRotated(const std::string& path, int max_index) {
  for (const std::string& file : RotatedFiles(path, max_index + 1)) std::remove(file.c_str());
}

TEST(LineSink, LinesReachTheFileInOrderAndFlushWaits) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink.log";
  std::remove(path.c_str());
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; i < 1000; ++i) sink->Write("line " + std::to_string(i) + "\n");
  sink->Flush();
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lines[i], "line " + std::to_string(i));
  EXPECT_EQ(sink->written(), 1000u);
  EXPECT_EQ(sink->dropped(), 0u);
  // More after a flush, then a flush with nothing pending returns at once.
  sink->Write("tail\n");
  sink->Flush();
  sink->Flush();
  EXPECT_EQ(ReadLines(path).back(), "tail");
  sink.reset();
  std::remove(path.c_str());
}

TEST(LineSink, ConcurrentWritersLoseNoLine) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_mt.log";
  std::remove(path.c_str());
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, error);
  ASSERT_NE(sink, nullptr) << error;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        sink->Write("t" + std::to_string(t) + " " + std::to_string(i) + "\n");
      }
    });
  }
  for (auto& th : threads) th.join();
  sink->Flush();
  std::vector<std::string> lines = ReadLines(path);
  EXPECT_EQ(lines.size(), 2000u);
  // Each writer's lines stay in its own order.
  std::vector<int> next(4, 0);
  for (const std::string& line : lines) {
    int t = line[1] - '0';
    ASSERT_GE(t, 0);
    ASSERT_LT(t, 4);
    EXPECT_EQ(line, "t" + std::to_string(t) + " " + std::to_string(next[t]++));
  }
  sink.reset();
  std::remove(path.c_str());
}

TEST(LineSink, SameTargetSharesOneSink) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_shared.log";
  std::string error;
  std::shared_ptr<LineSink> a = LineSink::Open(path, error);
  std::shared_ptr<LineSink> b = LineSink::Open(path, error);
  EXPECT_EQ(a, b);
  std::shared_ptr<LineSink> out1 = LineSink::Open("stdout", error);
  std::shared_ptr<LineSink> out2 = LineSink::Open("stdout", error);
  EXPECT_EQ(out1, out2);
  EXPECT_NE(out1, a);
  a.reset();
  b.reset();
  std::remove(path.c_str());
}

TEST(LineSink, UnopenableFileIsAnError) {
  std::string error;
  EXPECT_EQ(LineSink::Open("/nonexistent/dir/x.log", error), nullptr);
  EXPECT_NE(error.find("cannot open '/nonexistent/dir/x.log'"), std::string::npos) << error;
}

TEST(LineSink, StuckDestinationDropsAndCountsInsteadOfBlocking) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  // The sink opens its own descriptor for the pipe's write end; nobody reads yet, so the
  // writer thread blocks once the pipe buffer (64 KiB) is full and lines pile up.
  std::string target = "/proc/self/fd/" + std::to_string(fds[1]);
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(target, error);
  ASSERT_NE(sink, nullptr) << error;
  close(fds[1]);
  // Four times what may wait in memory, written without a reader: every Write returns (a
  // blocking one would hang the test until ctest's timeout).
  constexpr size_t kLineSize = 64 * 1024;
  const uint64_t total = 4 * LineSink::kMaxPending / kLineSize;
  for (uint64_t n = 0; n < total; ++n) sink->Write(NumberedLine(n, kLineSize));
  uint64_t dropped = sink->dropped();
  EXPECT_GT(dropped, 0u);
  // At most kMaxPending bytes wait, plus one batch the writer holds (also at most
  // kMaxPending) and what the pipe took.
  uint64_t at_most_kept = (2 * LineSink::kMaxPending + 1024 * 1024) / kLineSize;
  EXPECT_GE(dropped, total - at_most_kept);
  sink->Write(NumberedLine(total, kLineSize));
  EXPECT_EQ(sink->dropped(), dropped + 1) << "still full: every further line is dropped";
  // Drain the pipe: the lines that were kept arrive whole and in order.
  uint64_t received = 0;
  bool all_whole = true;
  bool in_order = true;
  std::thread reader([&, fd = fds[0]] {
    std::string partial;
    int64_t last = -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
      partial.append(buf, static_cast<size_t>(n));
      size_t newline;
      while ((newline = partial.find('\n')) != std::string::npos) {
        std::string line = partial.substr(0, newline + 1);
        partial.erase(0, newline + 1);
        all_whole = all_whole && line == NumberedLine(std::stoull(line), kLineSize);
        int64_t number = static_cast<int64_t>(std::stoull(line));
        in_order = in_order && number > last;
        last = number;
        ++received;
      }
    }
    all_whole = all_whole && partial.empty();
  });
  uint64_t accepted = total + 1 - sink->dropped();
  sink->Flush();
  EXPECT_EQ(sink->written(), accepted);
  sink.reset();  // closes the last write end: the reader sees EOF
  reader.join();
  close(fds[0]);
  EXPECT_EQ(received, accepted);
  EXPECT_TRUE(all_whole);
  EXPECT_TRUE(in_order);
}

// Rotation: see RotatedFiles for the naming (path.N is the oldest kept).
TEST(LineSink, SizeRotationKeepsEveryLineWholeAndInOrder) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_rotate.log";
  RemoveRotated(path, 200);
  LineSinkOptions options;
  options.max_bytes = 1000;
  options.keep = 200;  // more than the rotations below: nothing is deleted
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, options, error);
  ASSERT_NE(sink, nullptr) << error;
  constexpr uint64_t kLines = 2000;
  for (uint64_t n = 0; n < kLines; ++n) sink->Write(NumberedLine(n, 20 + n % 60));
  sink->Flush();
  EXPECT_GE(sink->rotations(), 50u);
  std::vector<std::string> files = RotatedFiles(path, 200);
  ASSERT_EQ(files.size(), sink->rotations() + 1);
  std::vector<std::string> lines;
  for (const std::string& file : files) {
    EXPECT_LE(FileSize(file), 1000u) << file;
    for (std::string& line : ReadLines(file)) lines.push_back(std::move(line));
  }
  ASSERT_EQ(lines.size(), kLines);
  for (uint64_t n = 0; n < kLines; ++n) {
    EXPECT_EQ(lines[n] + "\n", NumberedLine(n, 20 + n % 60)) << "line " << n;
  }
  sink.reset();
  RemoveRotated(path, 200);
}

TEST(LineSink, SizeRotationDeletesTheOldestBeyondKeep) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_keep.log";
  RemoveRotated(path, 10);
  LineSinkOptions options;
  options.max_bytes = 500;
  options.keep = 3;
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, options, error);
  ASSERT_NE(sink, nullptr) << error;
  constexpr uint64_t kLines = 400;
  for (uint64_t n = 0; n < kLines; ++n) sink->Write(NumberedLine(n, 32));
  sink->Flush();
  EXPECT_GE(sink->rotations(), 20u);
  std::vector<std::string> files = RotatedFiles(path, 10);
  ASSERT_EQ(files.size(), 4u) << "path, path.1 … path.3";
  EXPECT_EQ(files.front(), path + ".3");
  // What is left is the newest lines, contiguous and whole; the oldest were deleted.
  std::vector<std::string> lines;
  for (const std::string& file : files) {
    EXPECT_LE(FileSize(file), 500u) << file;
    for (std::string& line : ReadLines(file)) lines.push_back(std::move(line));
  }
  ASSERT_FALSE(lines.empty());
  ASSERT_LE(lines.size(), 4 * 500 / 32u);
  uint64_t first = kLines - lines.size();
  EXPECT_GT(first, 0u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i] + "\n", NumberedLine(first + i, 32));
  }
  sink.reset();
  RemoveRotated(path, 10);
}

TEST(LineSink, ALineLongerThanMaxBytesGetsAFileOfItsOwn) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_long.log";
  RemoveRotated(path, 10);
  LineSinkOptions options;
  options.max_bytes = 10;
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, options, error);
  ASSERT_NE(sink, nullptr) << error;
  const std::string long_line(50, 'y');
  sink->Write("short\n");
  sink->Write(long_line + "\n");
  sink->Write("x\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 2u);
  EXPECT_EQ(ReadLines(path + ".2"), std::vector<std::string>{"short"});
  EXPECT_EQ(ReadLines(path + ".1"), std::vector<std::string>{long_line});
  EXPECT_EQ(ReadLines(path), std::vector<std::string>{"x"});
  sink.reset();
  RemoveRotated(path, 10);
}

// A clock the test moves by hand.
class TestClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(Duration(now_.load())); }
  WallTime WallNow() const override { return WallTime(); }
  void Advance(Duration d) { now_ += d.count(); }

 private:
  std::atomic<Duration::rep> now_{Duration(std::chrono::hours(1)).count()};
};

TEST(LineSink, AgeRotationFollowsTheInjectedClock) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_age.log";
  RemoveRotated(path, 10);
  TestClock clock;
  LineSinkOptions options;
  options.max_age = std::chrono::hours(1);
  options.clock = &clock;
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(path, options, error);
  ASSERT_NE(sink, nullptr) << error;
  sink->Write("a\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 0u);
  // Past max_age: the writer rotates before the next line (or earlier, when idle).
  clock.Advance(std::chrono::minutes(61));
  sink->Write("b\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 1u);
  // Half an hour into the new file: no rotation.
  clock.Advance(std::chrono::minutes(30));
  sink->Write("c\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 1u);
  clock.Advance(std::chrono::minutes(31));
  sink->Write("d\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 2u);
  EXPECT_EQ(ReadLines(path + ".2"), std::vector<std::string>{"a"});
  EXPECT_EQ(ReadLines(path + ".1"), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(ReadLines(path), std::vector<std::string>{"d"});
  sink.reset();
  RemoveRotated(path, 10);
}

TEST(LineSink, TheFirstOpenersOptionsWin) {
  std::string path = ::testing::TempDir() + "sluice_ut_line_sink_first.log";
  RemoveRotated(path, 10);
  std::string error;
  std::shared_ptr<LineSink> first = LineSink::Open(path, error);
  ASSERT_NE(first, nullptr) << error;
  LineSinkOptions options;
  options.max_bytes = 10;
  std::shared_ptr<LineSink> second = LineSink::Open(path, options, error);
  EXPECT_EQ(first, second);
  for (int i = 0; i < 10; ++i) second->Write("0123456789\n");
  second->Flush();
  EXPECT_EQ(second->rotations(), 0u);
  EXPECT_EQ(ReadLines(path).size(), 10u);
  first.reset();
  second.reset();
  RemoveRotated(path, 10);
}

TEST(LineSink, StandardStreamsNeverRotate) {
  std::string error;
  LineSinkOptions options;
  options.max_bytes = 1;
  std::shared_ptr<LineSink> sink = LineSink::Open("stdout", options, error);
  ASSERT_NE(sink, nullptr) << error;
  sink->Write("line sink test: stdout does not rotate\n");
  sink->Write("line sink test: second line\n");
  sink->Flush();
  EXPECT_EQ(sink->rotations(), 0u);
}

}  // namespace
}  // namespace sluice
