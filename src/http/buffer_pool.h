// Worker-local free lists of the memory a connection needs only while a request is in
// flight (the 4 KiB input buffer, the exchange buffers, the JSON scratch area), so an idle
// keep-alive connection holds none of it and a busy one never waits on malloc. The lists
// are bounded; what does not fit is freed. Worker-local; not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "http/client_sink.h"

namespace sluice {

class BufferPool {
 public:
  static constexpr size_t kInputBytes = 4096;

  std::unique_ptr<char[]> TakeInput();
  // Blocks of any other size are simply freed.
  void GiveInput(std::unique_ptr<char[]> block, size_t size);
  std::unique_ptr<ExchangeBuffers> TakeExchange();
  void GiveExchange(std::unique_ptr<ExchangeBuffers> buffers);

  size_t free_inputs() const { return inputs_.size(); }
  size_t free_exchanges() const { return exchanges_.size(); }

 private:
  static constexpr size_t kMaxFree = 256;
  std::vector<std::unique_ptr<char[]>> inputs_;
  std::vector<std::unique_ptr<ExchangeBuffers>> exchanges_;
};

}  // namespace sluice
