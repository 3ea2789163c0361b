// The Merkle tree over the log (engine/log/merkle.h) against a reference computed naively here,
// straight from RFC 9162 §2.1.1's definition: roots, inclusion and consistency proofs at sizes 1,
// 2, powers of two and their neighbours, across tile boundaries, and after a restore.
#include "engine/log/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace expertflow::engine {
namespace {

// MTH(D[begin:end]) by the definition, recursively, from the leaf hashes.
Hash NaiveRoot(const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t n = end - begin;
  if (n == 0) return Sha256({});
  if (n == 1) return leaves[begin];
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return NodeHash(NaiveRoot(leaves, begin, begin + k), NaiveRoot(leaves, begin + k, end));
}

std::vector<Hash> Leaves(std::uint64_t n) {
  std::vector<Hash> leaves;
  leaves.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) leaves.push_back(LeafHash("event " + std::to_string(i)));
  return leaves;
}

// Full tiles in a map, as a log's store keeps them; counts reads and writes.
struct TileMap {
  std::map<std::pair<int, std::uint64_t>, std::string> tiles;
  std::uint64_t covered = 0;
  int writes = 0;
  bool fail_writes = false;

  MerkleTree Tree() {
    return MerkleTree(
        [this](int level, std::uint64_t index) -> Result<std::optional<std::string>> {
          auto it = tiles.find({level, index});
          if (it == tiles.end()) return std::nullopt;
          return it->second;
        },
        [this](const std::vector<FullTile>& full, std::uint64_t c) -> Result<void> {
          if (fail_writes) return Fail(ErrorCode::kUnavailable, "injected");
          for (const FullTile& t : full) tiles[{t.level, t.index}] = t.hashes;
          covered = c;
          ++writes;
          return {};
        });
  }
};

// The sizes the issue names: 1, 2, powers of two and their neighbours, and tile edges.
std::set<std::uint64_t> Sizes(std::uint64_t max) {
  std::set<std::uint64_t> sizes{1, 2, 3};
  for (std::uint64_t p = 2; p <= max; p *= 2) {
    for (std::uint64_t s : {p - 1, p, p + 1})
      if (s >= 1 && s <= max) sizes.insert(s);
  }
  for (std::uint64_t s : {255u, 256u, 257u, 511u, 512u, 513u, 65535u, 65536u, 65537u, 70000u})
    if (s <= max) sizes.insert(s);
  sizes.insert(max);
  return sizes;
}

TEST(MerkleTest, HashesFollowRfc9162Prefixes) {
  // RFC 9162 §2.1.1: the empty tree, a leaf with the 0x00 prefix, a node with 0x01.
  EXPECT_EQ(ToHex(EmptyTreeRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  std::string joined =
      std::string(1, '\x01') + std::string(a.begin(), a.end()) + std::string(b.begin(), b.end());
  EXPECT_EQ(NodeHash(a, b), Sha256(joined));
}

TEST(MerkleTest, RootsMatchTheDefinitionAtEverySizeNamed) {
  const std::uint64_t max = 70001;
  const std::vector<Hash> leaves = Leaves(max);
  TileMap store;
  MerkleTree tree = store.Tree();
  std::uint64_t added = 0;
  for (std::uint64_t size : Sizes(max)) {
    ASSERT_TRUE(tree.Append(std::span(leaves).subspan(added, size - added)));
    added = size;
    ASSERT_EQ(tree.Size(), size);
    auto root = tree.Root(size);
    ASSERT_TRUE(root) << root.error().message;
    EXPECT_EQ(*root, NaiveRoot(leaves, 0, size)) << "size " << size;
  }
  // Every earlier size's root is still answered the same from the grown tree.
  for (std::uint64_t size : Sizes(max)) EXPECT_EQ(*tree.Root(size), NaiveRoot(leaves, 0, size));
  // 70001 leaves: 273 full tiles at level 0 and one at level 1, stored; the rest in memory.
  EXPECT_EQ(store.tiles.size(), 274u);
  EXPECT_EQ(store.covered, 70000u - 70000u % 256);
  EXPECT_FALSE(tree.Root(max + 1));
}

TEST(MerkleTest, InclusionProofsVerifyAndMatchTheNaiveTree) {
  const std::uint64_t max = 1100;
  const std::vector<Hash> leaves = Leaves(max);
  TileMap store;
  MerkleTree tree = store.Tree();
  ASSERT_TRUE(tree.Append(leaves));
  const LeafList naive(leaves);
  for (std::uint64_t size : Sizes(max)) {
    const Hash root = NaiveRoot(leaves, 0, size);
    for (std::uint64_t index : std::set<std::uint64_t>{0, size / 2, size - 1, size / 3}) {
      auto proof = tree.Inclusion(index, size);
      ASSERT_TRUE(proof) << proof.error().message;
      EXPECT_EQ(*proof, *InclusionProof(naive, index, size));
      EXPECT_TRUE(VerifyInclusion(index, size, leaves[index], *proof, root))
          << "leaf " << index << " of " << size;
      // The wrong leaf, the wrong index, a changed proof or root: refused.
      EXPECT_FALSE(VerifyInclusion(index, size, LeafHash("forged"), *proof, root));
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion((index + 1) % size, size, leaves[index], *proof, root));
        std::vector<Hash> changed = *proof;
        changed[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(index, size, leaves[index], changed, root));
        changed = *proof;
        changed.pop_back();
        EXPECT_FALSE(VerifyInclusion(index, size, leaves[index], changed, root));
      }
      EXPECT_FALSE(VerifyInclusion(index, size, leaves[index], *proof, LeafHash("other root")));
    }
  }
  EXPECT_FALSE(tree.Inclusion(max, max));
  EXPECT_FALSE(tree.Inclusion(0, max + 1));
}

TEST(MerkleTest, ConsistencyProofsVerifyBetweenEveryPairOfSizesNamed) {
  const std::uint64_t max = 1100;
  const std::vector<Hash> leaves = Leaves(max);
  TileMap store;
  MerkleTree tree = store.Tree();
  ASSERT_TRUE(tree.Append(leaves));
  const LeafList naive(leaves);
  const std::set<std::uint64_t> sizes = Sizes(max);
  for (std::uint64_t from : sizes) {
    for (std::uint64_t to : sizes) {
      if (from > to) continue;
      auto proof = tree.Consistency(from, to);
      ASSERT_TRUE(proof) << proof.error().message;
      EXPECT_EQ(*proof, *ConsistencyProof(naive, from, to));
      const Hash old_root = NaiveRoot(leaves, 0, from);
      const Hash new_root = NaiveRoot(leaves, 0, to);
      EXPECT_TRUE(VerifyConsistency(from, to, old_root, new_root, *proof)) << from << " -> " << to;
      if (from < to) {
        // A history that differs anywhere in the old tree is not consistent with it.
        std::vector<Hash> forked = leaves;
        forked[from / 2] = LeafHash("rewritten");
        EXPECT_FALSE(VerifyConsistency(from, to, old_root, NaiveRoot(forked, 0, to), *proof));
        EXPECT_FALSE(VerifyConsistency(from, to, NaiveRoot(forked, 0, from), new_root, *proof));
        std::vector<Hash> changed = *proof;
        changed.back()[31] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(from, to, old_root, new_root, changed));
      }
    }
  }
  EXPECT_FALSE(tree.Consistency(0, 5));
  EXPECT_FALSE(tree.Consistency(6, 5));
  EXPECT_FALSE(VerifyConsistency(0, 5, EmptyTreeRoot(), EmptyTreeRoot(), {}));
}

TEST(MerkleTest, TilesAreTheTlogTilesHashes) {
  const std::vector<Hash> leaves = Leaves(70000);
  TileMap store;
  MerkleTree tree = store.Tree();
  ASSERT_TRUE(tree.Append(leaves));
  // tlog-tiles: tile n at level l holds MTH(D[(n*256+i)*256^l : (n*256+i+1)*256^l]).
  auto full = tree.Tile(0, 3, 256);
  ASSERT_TRUE(full);
  ASSERT_EQ(full->size(), kTileBytes);
  EXPECT_EQ(full->substr(0, 32),
            std::string(reinterpret_cast<const char*>(leaves[768].data()), 32));
  auto level1 = tree.Tile(1, 0, 256);
  ASSERT_TRUE(level1);
  const Hash second = NaiveRoot(leaves, 256, 512);
  EXPECT_EQ(level1->substr(32, 32), std::string(reinterpret_cast<const char*>(second.data()), 32));
  // The example of the specification: 70,000 leaves have a partial level-0 tile of width 112,
  // one of width 17 at level 1 and one of width 1 at level 2.
  EXPECT_TRUE(tree.Tile(0, 273, 112));
  EXPECT_FALSE(tree.Tile(0, 273, 113));
  EXPECT_TRUE(tree.Tile(1, 1, 17));
  EXPECT_FALSE(tree.Tile(1, 1, 18));
  auto top = tree.Tile(2, 0, 1);
  ASSERT_TRUE(top);
  const Hash first_65536 = NaiveRoot(leaves, 0, 65536);
  EXPECT_EQ(*top, std::string(reinterpret_cast<const char*>(first_65536.data()), 32));
  EXPECT_FALSE(tree.Tile(0, 274, 1));
  EXPECT_FALSE(tree.Tile(0, 0, 0));
}

TEST(MerkleTest, RestoreFromStoredTilesThenAppendAgainGivesTheSameTree) {
  const std::uint64_t n = 66000;
  const std::vector<Hash> leaves = Leaves(n);
  TileMap store;
  {
    MerkleTree tree = store.Tree();
    ASSERT_TRUE(tree.Append(std::span(leaves).first(65800)));
  }
  // A new process: the right edge is rebuilt from the stored full tiles, the leaves after them
  // appended again from the log.
  MerkleTree tree = store.Tree();
  ASSERT_TRUE(tree.Restore(store.covered));
  EXPECT_EQ(tree.Size(), store.covered);
  ASSERT_TRUE(tree.Append(std::span(leaves).subspan(store.covered)));
  EXPECT_EQ(*tree.Root(n), NaiveRoot(leaves, 0, n));
  EXPECT_EQ(*tree.Root(1000), NaiveRoot(leaves, 0, 1000));
  EXPECT_FALSE(tree.Restore(100));  // not a whole number of tiles
}

TEST(MerkleTest, TilesAFailedWriteLeftAreServedAndWrittenLater) {
  const std::vector<Hash> leaves = Leaves(600);
  TileMap store;
  MerkleTree tree = store.Tree();
  store.fail_writes = true;
  EXPECT_FALSE(tree.Append(std::span(leaves).first(300)));
  EXPECT_EQ(*tree.Root(300), NaiveRoot(leaves, 0, 300));
  store.fail_writes = false;
  ASSERT_TRUE(tree.Append(std::span(leaves).subspan(300)));
  EXPECT_EQ(store.tiles.size(), 2u);
  EXPECT_EQ(store.covered, 512u);
  EXPECT_EQ(*tree.Root(600), NaiveRoot(leaves, 0, 600));
}

}  // namespace
}  // namespace expertflow::engine
