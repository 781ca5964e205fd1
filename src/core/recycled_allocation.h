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
    if (size == sizeof(T) && !list_gone) {
      FreeList& list = Local();
      if (list.count > 0) return list.blocks[--list.count];
    }
    return ::operator new(size);
  }

  static void operator delete(void* block, size_t size) {
    if (size == sizeof(T) && !list_gone) {
      FreeList& list = Local();
      if (list.count < kKeepPerThread) {
        list.blocks[list.count++] = block;
        return;
      }
    }
    ::operator delete(block);
  }

 private:
  struct FreeList {
    std::array<void*, kKeepPerThread> blocks{};
    size_t count = 0;
    ~FreeList() {
      for (size_t i = 0; i < count; ++i) ::operator delete(blocks[i]);
      list_gone = true;
    }
  };

  static FreeList& Local() {
    thread_local FreeList list;
    return list;
  }

  // Set when this thread's list has been destroyed (thread exit): an object freed later on
  // the thread, by another thread_local's destructor, goes straight back to malloc. A plain
  // bool, so it outlives the list.
  static inline thread_local bool list_gone = false;
};

}  // namespace sluice
