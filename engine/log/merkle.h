#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/hash.h"

// The Merkle tree over the log (docs/audit.md): RFC 9162 §2.1 hashing, inclusion and consistency
// proofs and their verification, and the tree kept as C2SP tlog-tiles tiles. Every event's record
// (the exact bytes the chain hashes) is a leaf; the leaf index of seq s is s - 1.
namespace expertflow::engine {

// A tile is 2^8 hashes of one tree level (tlog-tiles): at level 0 leaf hashes, at level L the
// roots of the full tiles of level L - 1. Stored tiles are full ones only; the partial tiles of
// the right edge are kept in memory and recomputed on open.
inline constexpr int kTileHeight = 8;
inline constexpr std::uint64_t kTileWidth = 1u << kTileHeight;
inline constexpr std::size_t kTileBytes = kTileWidth * sizeof(Hash);

struct FullTile {
  int level = 0;
  std::uint64_t index = 0;
  std::string hashes;  // kTileBytes
};

// MTH of no leaves (RFC 9162 §2.1.1): SHA-256 of the empty string.
Hash EmptyTreeRoot();

// The hash of the perfect subtree over `hashes` (their count a power of two, at least one).
Hash PerfectRoot(std::span<const Hash> hashes);

// Complete-subtree hashes: the subtree of height `level` and index `index` spans the leaves
// [index * 2^level, (index + 1) * 2^level). Proofs and roots are computed from these alone.
class SubtreeHashes {
 public:
  virtual ~SubtreeHashes() = default;
  [[nodiscard]] virtual Result<Hash> Subtree(int level, std::uint64_t index) const = 0;
};

// MTH(D[begin:end]) (RFC 9162 §2.1.1) for end > begin.
[[nodiscard]] Result<Hash> RangeHash(const SubtreeHashes& tree, std::uint64_t begin,
                                     std::uint64_t end);
// The root of the tree of the first `size` leaves.
[[nodiscard]] Result<Hash> TreeRoot(const SubtreeHashes& tree, std::uint64_t size);
// PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), bottom up; index < size.
[[nodiscard]] Result<std::vector<Hash>> InclusionProof(const SubtreeHashes& tree,
                                                       std::uint64_t index, std::uint64_t size);
// PROOF(from, D[0:to]) (RFC 9162 §2.1.4.1); 0 < from <= to (empty when equal).
[[nodiscard]] Result<std::vector<Hash>> ConsistencyProof(const SubtreeHashes& tree,
                                                         std::uint64_t from, std::uint64_t to);

// RFC 9162 §2.1.3.2: does `proof` show the leaf `leaf` at `index` in the tree of `size` leaves
// whose root is `root`?
bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                     std::span<const Hash> proof, const Hash& root);
// RFC 9162 §2.1.4.2: does `proof` show that the tree of `from` leaves with root `from_root` is a
// prefix of the tree of `to` leaves with root `to_root`? (0 < from <= to.)
bool VerifyConsistency(std::uint64_t from, std::uint64_t to, const Hash& from_root,
                       const Hash& to_root, std::span<const Hash> proof);

// The tree as tiles: full tiles in a store of the log's (read and written through the two
// functions), the partial right edge in memory. One thread appends (the log's, after the events
// are durable); any thread reads. Appending writes the tiles it completes before the new size is
// visible, so a reader never looks for a full tile that is not stored.
class MerkleTree final : public SubtreeHashes {
 public:
  // A stored full tile, nullopt when absent.
  using ReadTile =
      std::function<Result<std::optional<std::string>>(int level, std::uint64_t index)>;
  // Stores full tiles; `covered` is the size of the tree whose full tiles are now all stored (a
  // multiple of the tile width): what an open restores from.
  using WriteTiles =
      std::function<Result<void>(const std::vector<FullTile>& tiles, std::uint64_t covered)>;

  MerkleTree(ReadTile read, WriteTiles write);

  // Restores the right edge of a tree whose full tiles are stored up to `covered` leaves (what
  // the last WriteTiles said): reads the full tiles that the partial ones above level 0 hold the
  // roots of. The leaves after `covered` are then appended again from the log.
  [[nodiscard]] Result<void> Restore(std::uint64_t covered);

  [[nodiscard]] Result<void> Append(std::span<const Hash> leaves);

  std::uint64_t Size() const;

  // The tile (level, index) as the tree of `size` leaves has it: its first `width` hashes
  // (kTileWidth for a full tile), or kNotFound when that tree has no such tile.
  [[nodiscard]] Result<std::string> Tile(int level, std::uint64_t index, std::uint64_t width) const;

  [[nodiscard]] Result<Hash> Subtree(int level, std::uint64_t index) const override;
  [[nodiscard]] Result<Hash> Root(std::uint64_t size) const;

  // Proofs against the tree of `size` leaves (size <= Size()); kNotFound past it.
  [[nodiscard]] Result<std::vector<Hash>> Inclusion(std::uint64_t index, std::uint64_t size) const;
  [[nodiscard]] Result<std::vector<Hash>> Consistency(std::uint64_t from, std::uint64_t to) const;

 private:
  // The hashes of tile (level, index), as many as the tree holds now (under mu_ shared).
  Result<std::string> TileHashes(int level, std::uint64_t index) const;

  ReadTile read_;
  WriteTiles write_;
  mutable std::shared_mutex mu_;
  std::uint64_t size_ = 0;
  std::vector<std::vector<Hash>> edge_;  // edge_[level]: the partial tile of that level
  std::vector<FullTile> unwritten_;      // full tiles whose write failed; retried
  std::uint64_t unwritten_covered_ = 0;
};

// A tree of the first `n` leaves of `leaves`, in memory, computed naively: the reference the
// tests and `verify` compare with.
class LeafList final : public SubtreeHashes {
 public:
  explicit LeafList(std::span<const Hash> leaves) : leaves_(leaves) {}
  [[nodiscard]] Result<Hash> Subtree(int level, std::uint64_t index) const override;

 private:
  std::span<const Hash> leaves_;
};

}  // namespace expertflow::engine
