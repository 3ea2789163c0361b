#include "engine/log/merkle.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>

namespace expertflow::engine {
namespace {

// The largest power of two below n (n >= 2): where RFC 9162 splits D[0:n].
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

Hash HashAt(std::string_view tile, std::size_t i) {
  Hash h;
  std::memcpy(h.data(), tile.data() + i * sizeof(Hash), sizeof(Hash));
  return h;
}

}  // namespace

Hash EmptyTreeRoot() { return Sha256({}); }

Hash PerfectRoot(std::span<const Hash> hashes) {
  if (hashes.size() == 1) return hashes[0];
  std::vector<Hash> level(hashes.begin(), hashes.end());
  for (std::size_t n = level.size(); n > 1; n /= 2) {
    for (std::size_t i = 0; i < n / 2; ++i) level[i] = NodeHash(level[2 * i], level[2 * i + 1]);
  }
  return level[0];
}

Result<Hash> RangeHash(const SubtreeHashes& tree, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t n = end - begin;
  if (end <= begin) return Fail(ErrorCode::kInternal, "an empty range has no Merkle hash");
  if (std::has_single_bit(n) && begin % n == 0) return tree.Subtree(std::countr_zero(n), begin / n);
  const std::uint64_t k = SplitPoint(n);
  auto left = RangeHash(tree, begin, begin + k);
  if (!left) return left;
  auto right = RangeHash(tree, begin + k, end);
  if (!right) return right;
  return NodeHash(*left, *right);
}

Result<Hash> TreeRoot(const SubtreeHashes& tree, std::uint64_t size) {
  if (size == 0) return EmptyTreeRoot();
  return RangeHash(tree, 0, size);
}

Result<std::vector<Hash>> InclusionProof(const SubtreeHashes& tree, std::uint64_t index,
                                         std::uint64_t size) {
  if (index >= size)
    return Fail(ErrorCode::kBadRequest,
                "leaf " + std::to_string(index) + " is not in a tree of " + std::to_string(size));
  // PATH(m, D[lo:hi]) descends towards the leaf; each step's sibling comes after the path below
  // it, so the siblings found top-down are the proof reversed.
  std::vector<Hash> path;
  std::uint64_t lo = 0;
  std::uint64_t hi = size;
  while (hi - lo > 1) {
    const std::uint64_t k = SplitPoint(hi - lo);
    auto sibling = index < lo + k ? RangeHash(tree, lo + k, hi) : RangeHash(tree, lo, lo + k);
    if (!sibling) return std::unexpected(sibling.error());
    path.push_back(*sibling);
    if (index < lo + k) {
      hi = lo + k;
    } else {
      lo += k;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

Result<std::vector<Hash>> ConsistencyProof(const SubtreeHashes& tree, std::uint64_t from,
                                           std::uint64_t to) {
  if (from == 0 || from > to)
    return Fail(ErrorCode::kBadRequest, "no consistency proof from a tree of " +
                                            std::to_string(from) + " to one of " +
                                            std::to_string(to));
  std::vector<Hash> proof;
  if (from == to) return proof;
  // SUBPROOF(m, D[lo:hi], b), unrolled as in InclusionProof.
  std::uint64_t lo = 0;
  std::uint64_t hi = to;
  std::uint64_t m = from;
  bool whole = true;  // b: the subtree D[lo:lo+m] is the old tree itself
  while (true) {
    if (m == hi - lo) {
      if (!whole) {
        auto h = RangeHash(tree, lo, hi);
        if (!h) return std::unexpected(h.error());
        proof.push_back(*h);
      }
      break;
    }
    const std::uint64_t k = SplitPoint(hi - lo);
    if (m <= k) {
      auto h = RangeHash(tree, lo + k, hi);
      if (!h) return std::unexpected(h.error());
      proof.push_back(*h);
      hi = lo + k;
    } else {
      auto h = RangeHash(tree, lo, lo + k);
      if (!h) return std::unexpected(h.error());
      proof.push_back(*h);
      lo += k;
      m -= k;
      whole = false;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                     std::span<const Hash> proof, const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(std::uint64_t from, std::uint64_t to, const Hash& from_root,
                       const Hash& to_root, std::span<const Hash> proof) {
  if (from == 0 || from > to) return false;
  if (from == to) return proof.empty() && from_root == to_root;
  if (proof.empty()) return false;
  // When the old tree is a perfect subtree on the left edge, its root starts the path.
  std::vector<Hash> path;
  if (std::has_single_bit(from)) path.push_back(from_root);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = from - 1;
  std::uint64_t sn = to - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == from_root && sr == to_root && sn == 0;
}

MerkleTree::MerkleTree(ReadTile read, WriteTiles write)
    : read_(std::move(read)), write_(std::move(write)) {}

std::uint64_t MerkleTree::Size() const {
  std::shared_lock lock(mu_);
  return size_;
}

Result<void> MerkleTree::Restore(std::uint64_t covered) {
  if (covered % kTileWidth != 0)
    return Fail(ErrorCode::kCorruption, "the stored tree covers " + std::to_string(covered) +
                                            " leaves, not a whole number of tiles");
  std::unique_lock lock(mu_);
  size_ = covered;
  edge_.assign(1, {});
  for (int level = 1; (covered >> (kTileHeight * level)) > 0; ++level) {
    const std::uint64_t count = covered >> (kTileHeight * level);  // hashes at this level
    std::vector<Hash> partial;
    for (std::uint64_t j = count - count % kTileWidth; j < count; ++j) {
      auto tile = read_(level - 1, j);
      if (!tile) return std::unexpected(tile.error());
      if (!*tile || (*tile)->size() != kTileBytes)
        return Fail(ErrorCode::kCorruption, "the tree's tile " + std::to_string(level - 1) + "/" +
                                                std::to_string(j) + " is missing or malformed");
      std::vector<Hash> hashes(kTileWidth);
      std::memcpy(hashes.data(), (*tile)->data(), kTileBytes);
      partial.push_back(PerfectRoot(hashes));
    }
    edge_.push_back(std::move(partial));
  }
  return {};
}

Result<void> MerkleTree::Append(std::span<const Hash> leaves) {
  std::unique_lock lock(mu_);
  std::vector<FullTile> done;
  std::uint64_t covered = 0;
  if (edge_.empty()) edge_.emplace_back();
  for (const Hash& leaf : leaves) {
    edge_[0].push_back(leaf);
    ++size_;
    for (std::size_t t = 0; edge_[t].size() == kTileWidth; ++t) {
      FullTile tile{static_cast<int>(t), (size_ >> (kTileHeight * (t + 1))) - 1, {}};
      tile.hashes.resize(kTileBytes);
      std::memcpy(tile.hashes.data(), edge_[t].data(), kTileBytes);
      const Hash root = PerfectRoot(edge_[t]);
      edge_[t].clear();
      if (edge_.size() == t + 1) edge_.emplace_back();
      edge_[t + 1].push_back(root);
      done.push_back(std::move(tile));
      covered = size_;
    }
  }
  if (done.empty() && unwritten_.empty()) return {};
  // Stored before the lock is let go: a reader that sees the new size finds them. Tiles a failed
  // write left are served from memory and written with the next ones.
  if (done.empty()) covered = unwritten_covered_;
  std::vector<FullTile> all = std::move(unwritten_);
  unwritten_.clear();
  for (FullTile& t : done) all.push_back(std::move(t));
  auto written = write_(all, covered);
  if (!written) {
    unwritten_ = std::move(all);
    unwritten_covered_ = covered;
  }
  return written;
}

Result<std::string> MerkleTree::TileHashes(int level, std::uint64_t index) const {
  const std::uint64_t count = size_ >> (kTileHeight * level);  // hashes at this level now
  if (index < count / kTileWidth) {
    for (const FullTile& t : unwritten_) {
      if (t.level == level && t.index == index) return t.hashes;
    }
    auto tile = read_(level, index);
    if (!tile) return std::unexpected(tile.error());
    if (!*tile || (*tile)->size() != kTileBytes)
      return Fail(ErrorCode::kCorruption, "the tree's tile " + std::to_string(level) + "/" +
                                              std::to_string(index) + " is missing or malformed");
    return std::move(**tile);
  }
  if (index == count / kTileWidth && count % kTileWidth != 0 &&
      static_cast<std::size_t>(level) < edge_.size()) {
    const std::vector<Hash>& partial = edge_[level];
    return std::string(reinterpret_cast<const char*>(partial.data()),
                       partial.size() * sizeof(Hash));
  }
  return Fail(ErrorCode::kNotFound, "the tree has no tile " + std::to_string(level) + "/" +
                                        std::to_string(index) + " yet");
}

Result<std::string> MerkleTree::Tile(int level, std::uint64_t index, std::uint64_t width) const {
  if (level < 0 || level > 63 || width == 0 || width > kTileWidth)
    return Fail(ErrorCode::kNotFound, "no such tile");
  std::shared_lock lock(mu_);
  auto hashes = TileHashes(level, index);
  if (!hashes) return hashes;
  if (hashes->size() < width * sizeof(Hash))
    return Fail(ErrorCode::kNotFound, "the tree has no tile " + std::to_string(level) + "/" +
                                          std::to_string(index) + " of width " +
                                          std::to_string(width) + " yet");
  hashes->resize(width * sizeof(Hash));
  return hashes;
}

Result<Hash> MerkleTree::Subtree(int level, std::uint64_t index) const {
  // The subtree's leaves at tile level t are 2^r hashes of one tile, r the height above them.
  const int t = level / kTileHeight;
  const int r = level % kTileHeight;
  const std::uint64_t first = index << r;
  const std::uint64_t count = std::uint64_t{1} << r;
  std::shared_lock lock(mu_);
  if (level > 63 || first + count > (size_ >> (kTileHeight * t)))
    return Fail(ErrorCode::kNotFound, "the tree has no complete subtree " + std::to_string(level) +
                                          "/" + std::to_string(index));
  auto tile = TileHashes(t, first / kTileWidth);
  if (!tile) return std::unexpected(tile.error());
  const std::size_t offset = first % kTileWidth;
  std::vector<Hash> hashes(count);
  for (std::size_t i = 0; i < count; ++i) hashes[i] = HashAt(*tile, offset + i);
  return PerfectRoot(hashes);
}

Result<Hash> MerkleTree::Root(std::uint64_t size) const {
  if (size > Size())
    return Fail(ErrorCode::kNotFound,
                "the tree has " + std::to_string(Size()) + " leaves, not " + std::to_string(size));
  return TreeRoot(*this, size);
}

Result<std::vector<Hash>> MerkleTree::Inclusion(std::uint64_t index, std::uint64_t size) const {
  if (size > Size())
    return Fail(ErrorCode::kNotFound,
                "the tree has " + std::to_string(Size()) + " leaves, not " + std::to_string(size));
  return InclusionProof(*this, index, size);
}

Result<std::vector<Hash>> MerkleTree::Consistency(std::uint64_t from, std::uint64_t to) const {
  if (to > Size())
    return Fail(ErrorCode::kNotFound,
                "the tree has " + std::to_string(Size()) + " leaves, not " + std::to_string(to));
  return ConsistencyProof(*this, from, to);
}

Result<Hash> LeafList::Subtree(int level, std::uint64_t index) const {
  const std::uint64_t n = std::uint64_t{1} << level;
  const std::uint64_t begin = index << level;
  if (begin + n > leaves_.size()) return Fail(ErrorCode::kNotFound, "no such subtree");
  return PerfectRoot(leaves_.subspan(begin, n));
}

}  // namespace expertflow::engine
