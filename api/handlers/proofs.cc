// /api/v1/log/...: the Merkle tree over the log, its signed checkpoints, proofs and the witnesses'
// cosignatures (docs/audit.md), and the C2SP tlog-tiles read paths under the prefix /api/v1/log
// (checkpoint, tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]).
#include <charconv>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/decide/policy.h"

namespace expertflow::api::handlers {
namespace {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

// The checkpoint, the consistency proofs and the tiles (hashes only) are for those who see the
// whole log and for witnesses; inclusion proofs and entry bundles hold records, and are not for
// witnesses.
bool ReadsTree(const Principal& p) { return engine::SeesEverything(p) || p.role == "witness"; }

std::optional<HttpResponse> Refuse(const Context& ctx, const Principal& p, bool records) {
  if (ctx.options.checkpoints == nullptr || ctx.log.Tree() == nullptr)
    return Problem(ErrorCode::kNotFound, "this server keeps no signed checkpoints");
  if (records ? !engine::SeesEverything(p) : !ReadsTree(p))
    return Problem(ErrorCode::kForbidden,
                   records
                       ? "proofs over records are for irpo, ministry, auditors and admins"
                       : "the log's tree is for irpo, ministry, auditors, admins and witnesses");
  return std::nullopt;
}

json HexList(const std::vector<engine::Hash>& hashes) {
  json a = json::array();
  for (const engine::Hash& h : hashes) a.push_back(engine::ToHex(h));
  return a;
}

HttpResponse Text(std::string body, std::string_view cache) {
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Cache-Control", std::string(cache));
  r.body = std::move(body);
  return r;
}

// A tlog-tiles index: path elements of three digits, all but the last led by "x".
std::optional<std::uint64_t> TileIndex(std::span<const std::string> parts) {
  if (parts.empty() || parts.size() > 6) return std::nullopt;  // 18 digits fit in 64 bits
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view s = parts[i];
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (!s.starts_with('x')) return std::nullopt;
      s.remove_prefix(1);
    }
    if (s.size() != 3 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    n = n * 1000 + static_cast<std::uint64_t>(std::stoi(std::string(s)));
  }
  return n;
}

// A decimal without leading zeros in [lo, hi].
std::optional<std::uint64_t> Decimal(std::string_view s, std::uint64_t lo, std::uint64_t hi) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

struct TilePath {
  bool entries = false;
  int level = 0;
  std::uint64_t index = 0;
  std::uint64_t width = engine::kTileWidth;
};

// segments: "log", "tile", then <L> or "entries", then the index, with ".p/<W>" for a partial.
std::optional<TilePath> ParseTilePath(const std::vector<std::string>& segments) {
  if (segments.size() < 4) return std::nullopt;
  TilePath t;
  if (segments[2] == "entries") {
    t.entries = true;
  } else {
    auto level = Decimal(segments[2], 0, 63);
    if (!level) return std::nullopt;
    t.level = static_cast<int>(*level);
  }
  std::vector<std::string> parts(segments.begin() + 3, segments.end());
  if (parts.size() >= 2 && parts[parts.size() - 2].ends_with(".p")) {
    auto width = Decimal(parts.back(), 1, engine::kTileWidth - 1);
    if (!width) return std::nullopt;
    t.width = *width;
    parts.pop_back();
    parts.back().resize(parts.back().size() - 2);
  }
  auto index = TileIndex(parts);
  if (!index) return std::nullopt;
  t.index = *index;
  return t;
}

}  // namespace

// GET /api/v1/log/checkpoint: the latest signed checkpoint with its cosignatures, as a note.
void LogCheckpoint(Context& ctx, const Call& call, Respond respond) {
  if (auto refused = Refuse(ctx, call.principal, false)) return respond(std::move(*refused));
  auto latest = ctx.options.checkpoints->Latest();
  if (!latest) return respond(Problem(latest.error()));
  if (!*latest) return respond(Problem(ErrorCode::kNotFound, "no checkpoint has been made yet"));
  respond(Text((*latest)->note, "no-cache"));
}

// GET /api/v1/log/key: the log's verifier key in the note format (as `expertflow key show`).
void LogKey(Context& ctx, const Call& call, Respond respond) {
  if (auto refused = Refuse(ctx, call.principal, false)) return respond(std::move(*refused));
  respond(Text(ctx.options.checkpoints->VerifierKey() + "\n", "no-cache"));
}

// GET /api/v1/log/checkpoints[?from_size=&to_size=&limit=]: every checkpoint kept, oldest
// first, with `next_from_size` to go on from (null at the end).
void LogCheckpoints(Context& ctx, const Call& call, Respond respond) {
  if (auto refused = Refuse(ctx, call.principal, false)) return respond(std::move(*refused));
  const Target& t = call.target;
  auto from = CountParam(t, "from_size", 0);
  auto to = CountParam(t, "to_size", 0);
  auto limit = CountParam(t, "limit", 100);
  if (!from || !to || !limit || *limit == 0 || *limit > 1000)
    return respond(Problem(ErrorCode::kBadRequest,
                           "from_size and to_size must be tree sizes and limit 1 to 1000"));
  auto rows = ctx.options.checkpoints->Range(*from, *to, *limit + 1);
  if (!rows) return respond(Problem(rows.error()));
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const engine::StoredCheckpoint& c = (*rows)[i];
    if (i == *limit) {
      next = c.size;
      break;
    }
    items.push_back({{"size", c.size},
                     {"root", engine::ToHex(c.root)},
                     {"made_at", engine::FormatRfc3339(c.made_at)},
                     {"note", c.note}});
  }
  respond(Json(200, {{"origin", ctx.options.checkpoints->Origin()},
                     {"items", std::move(items)},
                     {"next_from_size", next}}));
}

// GET /api/v1/log/proof/inclusion?seq=S[&tree_size=N]: the record of seq S is leaf S - 1 of the
// tree of N leaves (by default the latest checkpoint's).
void LogInclusionProof(Context& ctx, const Call& call, Respond respond) {
  if (auto refused = Refuse(ctx, call.principal, true)) return respond(std::move(*refused));
  const Target& t = call.target;
  auto latest = ctx.options.checkpoints->Latest();
  if (!latest) return respond(Problem(latest.error()));
  auto seq = CountParam(t, "seq", 0);
  auto size = CountParam(t, "tree_size", *latest ? (*latest)->size : 0);
  if (!seq || !size || *seq == 0 || *size == 0)
    return respond(Problem(ErrorCode::kBadRequest,
                           "seq and tree_size must be positive (tree_size defaults to the latest "
                           "checkpoint's, and none was made yet)"));
  if (*seq > *size)
    return respond(
        Problem(ErrorCode::kBadRequest,
                "seq " + std::to_string(*seq) + " is not in a tree of " + std::to_string(*size)));
  const engine::MerkleTree& tree = *ctx.log.Tree();
  auto proof = tree.Inclusion(*seq - 1, *size);
  if (!proof) return respond(Problem(proof.error()));
  auto root = tree.Root(*size);
  auto leaf = tree.Subtree(0, *seq - 1);
  if (!root || !leaf) return respond(Problem(!root ? root.error() : leaf.error()));
  respond(Json(200, {{"seq", *seq},
                     {"leaf_index", *seq - 1},
                     {"tree_size", *size},
                     {"leaf_hash", engine::ToHex(*leaf)},
                     {"root", engine::ToHex(*root)},
                     {"proof", HexList(*proof)}}));
}

// GET /api/v1/log/proof/consistency?from_size=M&to_size=N (to_size defaults to the latest
// checkpoint's).
void LogConsistencyProof(Context& ctx, const Call& call, Respond respond) {
  if (auto refused = Refuse(ctx, call.principal, false)) return respond(std::move(*refused));
  const Target& t = call.target;
  auto latest = ctx.options.checkpoints->Latest();
  if (!latest) return respond(Problem(latest.error()));
  auto from = CountParam(t, "from_size", 0);
  auto to = CountParam(t, "to_size", *latest ? (*latest)->size : 0);
  if (!from || !to || *from == 0 || *from > *to)
    return respond(
        Problem(ErrorCode::kBadRequest, "from_size and to_size must be 0 < from_size <= to_size"));
  const engine::MerkleTree& tree = *ctx.log.Tree();
  auto proof = tree.Consistency(*from, *to);
  if (!proof) return respond(Problem(proof.error()));
  auto from_root = tree.Root(*from);
  auto to_root = tree.Root(*to);
  if (!from_root || !to_root)
    return respond(Problem(!from_root ? from_root.error() : to_root.error()));
  respond(Json(200, {{"from_size", *from},
                     {"to_size", *to},
                     {"from_root", engine::ToHex(*from_root)},
                     {"to_root", engine::ToHex(*to_root)},
                     {"proof", HexList(*proof)}}));
}

// GET /api/v1/log/tile/<L>/<N>[.p/<W>] and /api/v1/log/tile/entries/<N>[.p/<W>] (tlog-tiles).
// An entry bundle is the records of the tile's leaves, each after its length as a big-endian
// uint16: a bundle with a record longer than 65,535 bytes cannot be written and is refused (500,
// naming the seq and the export to read it from). Such records exist: a protocol registered with
// every region's assignments (seed 003) makes one of about 75 KB. docs/audit.md, "Limits".
void LogTile(Context& ctx, const Call& call, Respond respond) {
  auto path = ParseTilePath(call.segments);
  if (!path) return respond(Problem(ErrorCode::kNotFound, "no such tile"));
  if (auto refused = Refuse(ctx, call.principal, path->entries))
    return respond(std::move(*refused));
  const engine::MerkleTree& tree = *ctx.log.Tree();
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
  if (!path->entries) {
    auto tile = tree.Tile(path->level, path->index, path->width);
    if (!tile) return respond(Problem(tile.error()));
    r.body = std::move(*tile);
    return respond(std::move(r));
  }
  const std::uint64_t first = path->index * engine::kTileWidth;
  if (first + path->width > tree.Size())
    return respond(Problem(ErrorCode::kNotFound, "the tree has no such entry bundle yet"));
  // Full bundles are the tile's whole width; a partial one the width asked for.
  std::optional<std::pair<std::uint64_t, std::size_t>> too_long;  // seq, bytes
  auto ok = ctx.log.ForEach(first + 1, first + path->width,
                            [&](std::uint64_t seq, const engine::Hash&, std::string_view record) {
                              if (record.size() > 0xffff) {
                                too_long.emplace(seq, record.size());
                                return false;
                              }
                              r.body.push_back(static_cast<char>(record.size() >> 8));
                              r.body.push_back(static_cast<char>(record.size() & 0xff));
                              r.body.append(record);
                              return true;
                            });
  if (!ok) return respond(Problem(ok.error()));
  if (too_long)
    return respond(Problem(engine::Error{
        ErrorCode::kInternal,
        "the record of seq " + std::to_string(too_long->first) + " is " +
            std::to_string(too_long->second) +
            " bytes; a tlog-tiles entry bundle carries records of at most 65535 bytes. Read this "
            "bundle's records from /api/v1/audit/export; the tiles hold their hashes as always"}));
  respond(std::move(r));
}

// POST /api/v1/log/cosignatures {"cosignature": "<checkpoint note with cosignature lines>"}: a
// witness hands back its cosignature of a checkpoint this log made; kept and served with it.
void PostCosignatures(Context& ctx, const Call& call, Respond respond) {
  const Principal& p = call.principal;
  if (ctx.options.checkpoints == nullptr)
    return respond(Problem(ErrorCode::kNotFound, "this server keeps no signed checkpoints"));
  if (p.role != "witness" && p.role != "admin")
    return respond(Problem(ErrorCode::kForbidden, "cosignatures come from witnesses"));
  auto text = call.body.find("cosignature");
  if (text == call.body.end() || !text->is_string())
    return respond(Problem(
        engine::Error{ErrorCode::kValidationFailed,
                      "cosignature is required",
                      {{"errors", {{{"field", "cosignature"}, {"message", "is required"}}}}}}));
  auto kept = ctx.options.checkpoints->AddCosignatures(text->get<std::string>());
  if (!kept) {
    engine::Error e = kept.error();
    if (e.code == ErrorCode::kValidationFailed && !e.details.contains("errors"))
      e.details["errors"] = {{{"field", "cosignature"}, {"message", e.message}}};
    return respond(Problem(e));
  }
  respond(Json(201, {{"witnesses", *kept}}));
}

}  // namespace expertflow::api::handlers
