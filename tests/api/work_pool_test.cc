// The pool the heavy reads run on: a bounded queue that refuses, rather than grows, and finishes
// what it took before it goes.
#include "api/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace expertflow::testing {
namespace {

TEST(WorkPool, RefusesWorkPastItsBoundAndFinishesWhatItTook) {
  std::atomic<int> done{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  {
    api::WorkPool pool(1, 1);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.set_value();
      released.wait();
      ++done;
    }));
    started.get_future().wait();  // the thread is busy
    EXPECT_TRUE(pool.TrySubmit([&] { ++done; })) << "one may wait";
    EXPECT_FALSE(pool.TrySubmit([&] { ++done; })) << "a second may not";
    release.set_value();
    pool.Shutdown();
    EXPECT_FALSE(pool.TrySubmit([&] { ++done; })) << "nothing after shutdown";
  }
  EXPECT_EQ(done, 2);
}

}  // namespace
}  // namespace expertflow::testing
