#include "storage/fault_env.h"

#include <rocksdb/file_system.h>

#include <string>
#include <utility>

namespace expertflow::storage {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

bool IsWal(const std::string& name) { return name.size() > 4 && name.ends_with(".log"); }

// A writable file that refuses writes while the disk is "full" (keeping half of the bytes, as a
// short write does) and, for the write-ahead log, syncs while syncs "fail".
class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, bool wal,
                     std::shared_ptr<DiskFaults> faults)
      : FSWritableFileOwnerWrapper(std::move(file)), wal_(wal), faults_(std::move(faults)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (faults_->full()) return Torn(data, options, dbg);
    return target()->Append(data, options, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (faults_->full()) return Torn(data, options, dbg);
    return target()->Append(data, options, info, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (faults_->full()) return NoSpace();
    return target()->PositionedAppend(data, offset, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (faults_->full()) return NoSpace();
    return target()->PositionedAppend(data, offset, options, info, dbg);
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& options,
                    IODebugContext* dbg) override {
    if (faults_->full()) return NoSpace();
    return target()->Allocate(offset, len, options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    if (wal_ && faults_->sync_fails()) return SyncFailed();
    return target()->Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (wal_ && faults_->sync_fails()) return SyncFailed();
    return target()->Fsync(options, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    if (wal_ && faults_->sync_fails()) return SyncFailed();
    return target()->RangeSync(offset, nbytes, options, dbg);
  }

 private:
  IOStatus Torn(const Slice& data, const IOOptions& options, IODebugContext* dbg) {
    (void)target()->Append(Slice(data.data(), data.size() / 2), options, dbg);
    return NoSpace();
  }
  IOStatus NoSpace() {
    faults_->CountRefusal();
    return IOStatus::NoSpace("injected: no space left on device");
  }
  IOStatus SyncFailed() {
    faults_->CountRefusal();
    return IOStatus::IOError("injected: sync failed");
  }

  bool wal_;
  std::shared_ptr<DiskFaults> faults_;
};

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(std::shared_ptr<DiskFaults> faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(std::move(faults)) {}

  const char* Name() const override { return "expertflow.FaultyFileSystem"; }

  IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                              IODebugContext* dbg) override {
    return Wrap(name, target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                             const rocksdb::FileOptions& options,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             IODebugContext* dbg) override {
    return Wrap(name, target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }
  IOStatus GetFreeSpace(const std::string& path, const IOOptions& options, uint64_t* free,
                        IODebugContext* dbg) override {
    if (faults_->full()) {
      *free = 0;
      return IOStatus::OK();
    }
    return target()->GetFreeSpace(path, options, free, dbg);
  }

 private:
  IOStatus Wrap(const std::string& name, IOStatus s,
                std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok()) result->reset(new FaultyWritableFile(std::move(*result), IsWal(name), faults_));
    return s;
  }

  std::shared_ptr<DiskFaults> faults_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectingEnv(std::shared_ptr<DiskFaults> faults) {
  return rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(std::move(faults)));
}

}  // namespace expertflow::storage
