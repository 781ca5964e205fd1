// Tests of LineSink: lines reach a file in order, Flush waits for them, sinks are shared
// per destination, and a destination that stops draining makes lines drop (counted)
// instead of blocking the writer. No sleeps: a pipe nobody reads stands in for a stuck
// destination.
#include "observability/line_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

TEST(LineSink, LinesReachTheFileInOrderAndFlushWaits) {
  std::string path = testing::TempDir() + "sluice_ut_line_sink.log";
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
  std::string path = testing::TempDir() + "sluice_ut_line_sink_mt.log";
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
  std::string path = testing::TempDir() + "sluice_ut_line_sink_shared.log";
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
  ASSERT_EQ(pipe(fds), 0);
  // The sink opens its own descriptor for the pipe's write end; nobody reads yet, so the
  // writer thread blocks once the pipe buffer (64 KiB) is full and lines pile up.
  std::string target = "/proc/self/fd/" + std::to_string(fds[1]);
  std::string error;
  std::shared_ptr<LineSink> sink = LineSink::Open(target, error);
  ASSERT_NE(sink, nullptr) << error;
  close(fds[1]);
  const std::string big(512 * 1024 - 1, 'x');
  const std::string line = big + "\n";
  // At most kMaxPending bytes wait in memory, plus what the writer thread holds (one batch)
  // and the pipe buffer: a bounded number of writes must start dropping.
  size_t max_writes = 3 * LineSink::kMaxPending / line.size() + 8;
  size_t writes = 0;
  while (sink->dropped() == 0 && writes < max_writes) {
    sink->Write(line);
    ++writes;
  }
  EXPECT_GT(sink->dropped(), 0u) << "after " << writes << " writes";
  uint64_t dropped = sink->dropped();
  sink->Write(line);
  EXPECT_EQ(sink->dropped(), dropped + 1) << "still full: every further line is dropped";
  // Drain the pipe so the writer can finish; destroying the sink writes what it kept.
  std::thread reader([fd = fds[0]] {
    char buf[65536];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
  });
  uint64_t accepted = writes + 1 - sink->dropped();
  sink->Flush();
  EXPECT_EQ(sink->written(), accepted);
  sink.reset();  // closes the last write end: the reader sees EOF
  reader.join();
  close(fds[0]);
}

}  // namespace
}  // namespace sluice
