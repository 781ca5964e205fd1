// Runs blocking work (SQLite calls, password hashing) on a small dedicated thread pool and
// lets a worker coroutine await the result without blocking its event loop: the work is
// posted to the pool and the coroutine resumes on its own executor when it is done.
// A pool of one thread is a serial executor (the store uses one, so its SQLite connection
// is only ever used from that thread). Thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <type_traits>
#include <utility>

namespace sluice {

class BlockingPool {
 public:
  explicit BlockingPool(size_t threads) : pool_(threads) {}
  ~BlockingPool() { Stop(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Awaits `work()` run on the pool; resumes on the awaiting coroutine's executor.
  // Callers capture by reference (the awaiting frame outlives the work): GCC 12 miscompiles
  // a lambda that copies a std::string inside a co_await expression (the copy shares the
  // buffer and it is freed twice). For the same reason Run is not a coroutine itself.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> Run(F work) {
    return boost::asio::co_spawn(
        pool_.get_executor(),
        [work = std::move(work)]() mutable -> boost::asio::awaitable<std::invoke_result_t<F>> {
          co_return work();
        },
        boost::asio::use_awaitable);
  }

  // Runs `work()` on the pool and blocks the calling (non-worker) thread until it is done.
  template <class F>
  std::invoke_result_t<F> RunSync(F work) {
    return boost::asio::post(pool_.get_executor(), boost::asio::use_future(std::move(work))).get();
  }

  // Fire and forget (batched writes: audit rows, key usage).
  template <class F>
  void Post(F work) {
    boost::asio::post(pool_.get_executor(), std::move(work));
  }

  // Blocks until the work queued before this call has run (a serial pool runs it in order).
  void WaitIdle() {
    if (!stopped_) RunSync([] {});
  }

  // Finishes queued work, then joins the threads. Idempotent.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    pool_.join();
  }

 private:
  boost::asio::thread_pool pool_;
  bool stopped_ = false;
};

}  // namespace sluice
