#pragma once

// Private to storage/: the RocksDB side of DiskFaults.

#include <rocksdb/env.h>

#include <memory>

#include "storage/disk_faults.h"

namespace expertflow::storage {

// An Env over the default file system whose writable files obey `faults`.
std::unique_ptr<rocksdb::Env> NewFaultInjectingEnv(std::shared_ptr<DiskFaults> faults);

}  // namespace expertflow::storage
