#pragma once

#include <atomic>
#include <cstdint>

namespace expertflow::storage {

// A switchboard for disk faults under a RocksDbEventLog, for tests: give the same object to
// RocksDbEventLog::Options::disk_faults and every file of that store is written through it.
// Nothing here includes RocksDB; the file system that obeys it lives in disk_faults.cc.
class DiskFaults {
 public:
  // A full disk: every write to any file of the store stores the first half of its bytes (as a
  // write(2) cut short by ENOSPC does) and fails with "no space"; free space reads as 0. Off
  // again, writes succeed: space has returned.
  void SetFull(bool full) { full_ = full; }
  // A disk whose flushes fail: writes reach the files, but every sync of the write-ahead log
  // fails with an I/O error, so the bytes of the failed batch may be on disk in full.
  void SetSyncFails(bool fails) { sync_fails_ = fails; }

  bool full() const { return full_; }
  bool sync_fails() const { return sync_fails_; }
  // How many writes and syncs were refused so far.
  std::uint64_t refused() const { return refused_; }
  void CountRefusal() { ++refused_; }

 private:
  std::atomic<bool> full_{false};
  std::atomic<bool> sync_fails_{false};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace expertflow::storage
