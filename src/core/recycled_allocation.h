// RecycledAllocation<T>: class-specific operator new/delete that keep a few freed blocks per
// thread for the next object of the same class. Meant for per-request objects too large for
// malloc's per-thread cache (glibc's tcache stops at 1 KiB), such as the rate_limit filter
// with its inline counter names: a malloc/free pair of such a block costs several hundred
// instructions, a recycled one a few. Inherit it: `class F final : public Filter,
// public RecycledAllocation<F>`. A block freed on another thread joins that thread's list;
// memory is memory, so that is only a matter of where it is reused.
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace sluice {

template <typename T, size_t kKeepPerThread = 64>
class RecycledAllocation {
 public:
  static void* operator new(size_t size) {
    FreeList& list = Local();
    if (size == sizeof(T) && list.count > 0) return list.blocks[--list.count];
    return ::operator new(size);
  }

  static void operator delete(void* block, size_t size) {
    FreeList& list = Local();
    if (size == sizeof(T) && list.count < kKeepPerThread) {
      list.blocks[list.count++] = block;
      return;
    }
    ::operator delete(block);
  }

 private:
  struct FreeList {
    std::array<void*, kKeepPerThread> blocks{};
    size_t count = 0;
    ~FreeList() {
      for (size_t i = 0; i < count; ++i) ::operator delete(blocks[i]);
    }
  };

  static FreeList& Local() {
    thread_local FreeList list;
    return list;
  }
};

}  // namespace sluice
