// BufferPool: LIFO free lists (the most recently used block is the warmest in cache).
#include "http/buffer_pool.h"

namespace sluice {

std::unique_ptr<char[]> BufferPool::TakeInput() {
  if (inputs_.empty()) return std::make_unique<char[]>(kInputBytes);
  std::unique_ptr<char[]> block = std::move(inputs_.back());
  inputs_.pop_back();
  return block;
}

void BufferPool::GiveInput(std::unique_ptr<char[]> block, size_t size) {
  if (block && size == kInputBytes && inputs_.size() < kMaxFree)
    inputs_.push_back(std::move(block));
}

std::unique_ptr<ExchangeBuffers> BufferPool::TakeExchange() {
  if (exchanges_.empty()) return std::make_unique<ExchangeBuffers>();
  std::unique_ptr<ExchangeBuffers> buffers = std::move(exchanges_.back());
  exchanges_.pop_back();
  return buffers;
}

void BufferPool::GiveExchange(std::unique_ptr<ExchangeBuffers> buffers) {
  if (!buffers || exchanges_.size() >= kMaxFree) return;
  buffers->ShrinkIfLarge();
  exchanges_.push_back(std::move(buffers));
}

}  // namespace sluice
