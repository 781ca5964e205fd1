// Tests of RecycledAllocation: a freed block is reused by the next object of its class on the
// same thread, a derived class of another size is never handed a recycled block, and the
// per-thread list is bounded.
#include "core/recycled_allocation.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace sluice {
namespace {

struct Base {
  virtual ~Base() = default;
};

struct Big final : Base, RecycledAllocation<Big, 4> {
  char payload[3000] = {};
};

TEST(RecycledAllocation, FreedBlockIsReusedOnTheSameThread) {
  std::unique_ptr<Base> first = std::make_unique<Big>();
  void* address = first.get();
  first.reset();  // through the base: the class's operator delete with Big's size
  std::unique_ptr<Base> second = std::make_unique<Big>();
  EXPECT_EQ(second.get(), address);
  EXPECT_EQ(static_cast<Big*>(second.get())->payload[0], 0);  // constructed afresh
}

TEST(RecycledAllocation, KeepsAtMostItsBound) {
  std::vector<std::unique_ptr<Big>> live;
  for (int i = 0; i < 10; ++i) live.push_back(std::make_unique<Big>());
  std::set<void*> freed;
  for (auto& b : live) freed.insert(b.get());
  live.clear();  // 4 kept, 6 returned to malloc
  int recycled = 0;
  for (int i = 0; i < 10; ++i) {
    live.push_back(std::make_unique<Big>());
    if (freed.count(live.back().get()) != 0) ++recycled;
  }
  // The four kept blocks come back first; malloc may hand back some of the others too.
  EXPECT_GE(recycled, 4);
  live.clear();
}

TEST(RecycledAllocation, ABlockFreedOnAnotherThreadServesThatThread) {
  auto* made_here = new Big;
  void* address = made_here;
  void* reused_there = nullptr;
  std::thread([&] {
    delete made_here;
    Big* again = new Big;
    reused_there = again;
    delete again;
  }).join();
  EXPECT_EQ(reused_there, address);
}

// A thread_local made before the free list is destroyed after it: freeing an object from its
// destructor must not touch the dead list (under ASan/LSan the block would otherwise leak).
struct FreesAtThreadExit {
  Big* held = nullptr;
  ~FreesAtThreadExit() { delete held; }
};

TEST(RecycledAllocation, AnObjectFreedAfterTheThreadsListIsGoneGoesBackToMalloc) {
  std::thread([] {
    thread_local FreesAtThreadExit holder;  // constructed first, so destroyed last
    holder.held = new Big;                  // constructs the free list
    delete new Big;                         // and puts a block in it
  }).join();
  SUCCEED();  // the assertion is LeakSanitizer's (ASan builds) and no crash
}

}  // namespace
}  // namespace sluice
