#include "ngsi/entity.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ngsi/row.hpp"
#include "ngsi/table_name.hpp"
#include "ngsi/text.hpp"
#include "ngsi/timestamp.hpp"
#include "ngsi/value_typing.hpp"
#include "text/ascii.hpp"

namespace kafnus::ngsi {
namespace {

// Members of an entity that are not attributes (any case, as in today's stack).
bool is_reserved_member(std::string_view key) noexcept {
  switch (key.size()) {  // most attribute names have none of these lengths
    case 2: return iequals(key, "id");
    case 4: return iequals(key, "type");
    case 14: return iequals(key, "alterationType");
    default: return false;
  }
}

// Columns Kafnus fills itself: an attribute of that name would silently
// overwrite them (today's stack does, or breaks on a duplicated field).
bool is_base_column(std::string_view column) noexcept {
  return column == kEntityId || column == kEntityType || column == kServicePath || column == kRecvTime;
}

bool is_delete(const json_tree& t, std::uint32_t entity) {
  const json_node& e = t.at(entity);
  for (std::uint32_t c = json_tree::first_child(entity); c < e.next; c = t.at(c).next) {
    if (!iequals(t.at(c).key, "alterationType")) continue;
    std::uint32_t v = c;
    if (t.at(c).type == json_type::object) v = t.member(c, "value");
    if (v != json_tree::npos && t.at(v).type == json_type::string && iequals(t.at(v).text, "entityDelete")) {
      return true;
    }
  }
  return false;
}

// The entity's "id" or "type" (the member `m`, npos when absent): a
// non-empty string without NUL. Returns what is wrong, or an empty string.
std::string identity(const json_tree& t, std::uint32_t m, const char* member, std::string_view& out) {
  if (m == json_tree::npos) return std::string("has no \"") + member + "\"";
  const json_node& n = t.at(m);
  if (n.type != json_type::string) {
    return std::string("has an \"") + member + "\" that is " + describe(n.type) + ", expected a non-empty string";
  }
  if (n.text.empty()) return std::string("has an empty \"") + member + "\"";
  if (n.has_nul) return std::string("has an \"") + member + "\" holding a NUL character (\\u0000)";
  out = n.text;
  return {};
}

struct attribute {
  std::uint32_t node;
  std::string_view column;  // lower-cased name (after name mappings), in this thread's entity_scratch
  bool rejected;            // its name already made it an error
  bool mapped;              // a name-mapping rule matched it: `type` is its NGSI type
  std::string_view type;
  std::uint64_t column_hash;  // of `column`: most pairs of columns differ in it
  std::uint32_t column_end;   // where `column` ends in entity_scratch::columns
};

// The table the entity before on this thread was written to, and what
// named it: the entities of a notification, and notifications one after
// the other, mostly share their table, which is then not named again.
struct table_memo {
  std::shared_ptr<const row_target> target;  // the table, and the service that named it; null: none
  datamodel dm = datamodel::by_entity_type_database;
  flow f = flow::historic;
  std::string servicepath;
  std::string entity_type;

  bool names(datamodel d, flow fl, const fiware_context& ctx, std::string_view type) const {
    return target && d == dm && fl == f && type == entity_type && ctx.servicepath == servicepath &&
           ctx.service == target->service;
  }
};

// This thread's row targets by what names their tables (datamodel, flow,
// service, servicepath, entity type): the rows of one table share one
// target however their entities interleave, and a table named before is
// not named again (the memo above keeps only the last; with types
// alternating, every entity named its table and had a target of its
// own). Bounded, as names come from messages: past kMaxTargets it starts
// again (rows keep the targets they hold alive).
class target_cache {
 public:
  static constexpr std::size_t kMaxTargets = 1024;

  // The target of this naming, if one was made; the key is kept for put().
  const std::shared_ptr<const row_target>* find(datamodel dm, flow f, const fiware_context& ctx,
                                                std::string_view entity_type) {
    key_.clear();
    key_.push_back(static_cast<char>(dm));
    key_.push_back(static_cast<char>(f));
    for (const std::string_view part :
         {std::string_view(ctx.service), std::string_view(ctx.servicepath), entity_type}) {
      const auto n = static_cast<std::uint32_t>(part.size());  // lengths first: no part can run into the next
      key_.append(reinterpret_cast<const char*>(&n), sizeof n).append(part);
    }
    auto it = by_key_.find(key_);
    return it == by_key_.end() ? nullptr : &it->second;
  }
  // The target of the naming find() was last asked for.
  const std::shared_ptr<const row_target>& put(table_ref&& table, const std::string& service) {
    if (by_key_.size() >= kMaxTargets) by_key_.clear();
    return by_key_[key_] = std::make_shared<const row_target>(row_target{std::move(table), service});
  }

 private:
  std::string key_;
  std::unordered_map<std::string, std::shared_ptr<const row_target>> by_key_;
};

// What entity_to_row reuses from one entity to the next on a thread, so
// that building a row allocates only the row: the attributes' lower-cased
// names one after the other, the text a value's typing made, the columns.
// And the table named last, and the targets of the tables named before.
struct entity_scratch {
  std::vector<attribute> attrs;
  byte_buffer columns;
  std::string typed;
  column_builder builder;
  table_memo table;
  target_cache targets;

  // Ready for the next entity; what an unusually large one made it keep
  // is given back.
  void reset() {
    constexpr std::size_t kKeepBytes = std::size_t{1} << 20;
    if (attrs.capacity() * sizeof(attribute) > kKeepBytes) std::vector<attribute>().swap(attrs);
    if (columns.capacity() > kKeepBytes) columns.release();
    if (typed.capacity() > kKeepBytes) std::string().swap(typed);
    attrs.clear();
    columns.clear();
    builder.clear();  // (what an exception left)
  }
};

entity_scratch& this_thread_scratch() {
  thread_local entity_scratch s;
  return s;
}

// A base column's name and its column_builder::name_hash, worked out once.
struct base_column {
  explicit base_column(std::string_view n) : name(n), hash(column_builder::name_hash(n)) {}
  std::string_view name;
  std::uint64_t hash;
};
const base_column kEntityIdColumn(kEntityId);
const base_column kEntityTypeColumn(kEntityType);
const base_column kServicePathColumn(kServicePath);
const base_column kRecvTimeColumn(kRecvTime);

// The text of recvtime: one instant for every row of a batch, formatted once.
const std::string& recv_time_text(std::int64_t micros) {
  thread_local std::int64_t formatted = std::numeric_limits<std::int64_t>::min();
  thread_local std::string text;
  if (micros != formatted) {
    text = format_utc(micros);
    formatted = micros;
  }
  return text;
}

// The NGSI type an attribute rule matches: its "type" when a string, else "".
std::string_view declared_type(const json_tree& t, std::uint32_t attr) {
  if (t.at(attr).type != json_type::object) return {};
  const std::uint32_t tn = t.member(attr, "type");
  return tn != json_tree::npos && t.at(tn).type == json_type::string ? t.at(tn).text : std::string_view();
}

// Whether two of `n` (at most 16) hashes are equal: each goes into a table
// of 32 slots (open addressing; 0 marks a free slot, so a hash of 0 is
// counted apart). One pass, where comparing every pair takes n²/2.
bool any_equal_hash(const std::uint32_t* hashes, std::size_t n) noexcept {
  constexpr std::uint32_t kSlots = 32;
  std::uint32_t table[kSlots] = {};
  bool zero = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t h = hashes[i];
    if (h == 0) {
      if (zero) return true;
      zero = true;
      continue;
    }
    for (std::uint32_t s = h % kSlots;; s = (s + 1) % kSlots) {
      if (table[s] == 0) {
        table[s] = h;
        break;
      }
      if (table[s] == h) return true;
    }
  }
  return false;
}

// Attributes whose names fold to the same column, pairwise (in order of the
// first, then of the second); a sort only when an entity is large enough
// for the quadratic scan to matter. Most entities have no clash: one pass
// over the low 32 bits of the names' hashes says so. Otherwise the scan
// compares those four at a time where SSE2 is (every x86-64), and the names
// themselves only where they agree.
template <class F>
void for_each_clash(const std::vector<attribute>& attrs, F&& clash) {
  constexpr std::size_t kScan = 16;
  const std::size_t n = attrs.size();
  if (n <= kScan) {
    std::uint32_t hashes[kScan + 3] = {};  // room for the last four-wide load
    for (std::size_t i = 0; i < n; ++i) hashes[i] = static_cast<std::uint32_t>(attrs[i].column_hash);
    if (!any_equal_hash(hashes, n)) return;
    const auto same = [&](std::size_t i, std::size_t j) {
      if (attrs[i].column_hash == attrs[j].column_hash && attrs[i].column == attrs[j].column) clash(i, j);
    };
    for (std::size_t i = 0; i + 1 < n; ++i) {
#if defined(__SSE2__)
      const __m128i mine = _mm_set1_epi32(static_cast<int>(hashes[i]));
      for (std::size_t j = i + 1; j < n; j += 4) {
        const __m128i theirs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes + j));
        auto lanes = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(mine, theirs))));
        if (n - j < 4) lanes &= (1u << (n - j)) - 1;  // lanes past the last attribute
        for (; lanes != 0; lanes &= lanes - 1) same(i, j + static_cast<std::size_t>(__builtin_ctz(lanes)));
      }
#else
      for (std::size_t j = i + 1; j < n; ++j) {
        if (hashes[i] == hashes[j]) same(i, j);
      }
#endif
    }
    return;
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return attrs[a].column < attrs[b].column; });
  for (std::size_t k = 1; k < n; ++k) {
    if (attrs[order[k - 1]].column == attrs[order[k]].column) clash(order[k - 1], order[k]);
  }
}

}  // namespace

void entity_to_row(const json_tree& tree, std::uint32_t entity, std::size_t index, const record_context& rc,
                   transform_output& out) {
  const flow f = rc.options.f;
  const json_node& e = tree.at(entity);
  // Names for messages are built only when there is something to say.
  auto position = [index] { return "data[" + std::to_string(index) + "]"; };
  auto reject = [&](std::string message, std::optional<row> candidate = std::nullopt) {
    out.errors.push_back(transform_error{rc.ctx.service, std::move(message), std::move(candidate)});
  };

  if (e.type != json_type::object) {
    reject(position() + " is " + describe(e.type) +
           ", expected an entity object {\"id\": …, \"type\": …, <attribute>: {\"type\": …, \"value\": …}}");
    return;
  }
  std::string_view id, type;
  std::uint32_t id_member = json_tree::npos;
  std::uint32_t type_member = json_tree::npos;
  tree.member_pair(entity, "id", "type", id_member, type_member);  // Orion writes them first
  if (auto why = identity(tree, id_member, "id", id); !why.empty()) {
    reject("the entity at " + position() + " " + why + "; Orion entities carry a string id and type");
    return;
  }
  if (auto why = identity(tree, type_member, "type", type); !why.empty()) {
    reject("entity " + quoted(id) + " (" + position() + ") " + why + "; the table is named after the entity type");
    return;
  }
  auto name = [&] { return "entity " + quoted(id) + " (type " + quoted(type) + ")"; };

  // Name mappings rename the entity (and maybe its servicepath) before
  // anything is named after it; messages keep the names as sent.
  entity_names mapped;
  if (rc.mapping) mapped = map_entity(*rc.mapping, rc.ctx.servicepath_sent, id, type);
  const std::string_view entity_id = mapped.id ? std::string_view(*mapped.id) : id;
  const std::string_view entity_type = mapped.type ? std::string_view(*mapped.type) : type;
  if (entity_id.empty() || entity_type.empty()) {
    reject(name() + ": the name mappings give it an empty " + (entity_id.empty() ? "id" : "type"));
    return;
  }
  std::optional<fiware_context> mapped_ctx;
  if (mapped.servicepath) {
    mapped_ctx = rc.ctx;
    mapped_ctx->servicepath = normalize_servicepath(*mapped.servicepath);
  }
  const fiware_context* ctx = mapped_ctx ? &*mapped_ctx : &rc.ctx;

  entity_scratch& scratch = this_thread_scratch();
  table_memo& memo = scratch.table;
  if (!memo.names(rc.dm, f, *ctx, entity_type)) {
    memo.target.reset();
    if (const auto* known = scratch.targets.find(rc.dm, f, *ctx, entity_type)) {
      memo.target = *known;
    } else {
      auto table = table_for(rc.dm, *ctx, entity_type, f);
      if (!table) {
        reject(name() + ": " + table.err().message);
        return;
      }
      memo.target = scratch.targets.put(std::move(table).value(), ctx->service);
    }
    memo.dm = rc.dm;
    memo.f = f;
    memo.servicepath = ctx->servicepath;
    memo.entity_type = entity_type;
  }
  row r;
  r.f = f;
  r.set_target(memo.target);  // (its service is rc.ctx.service: a mapped context changes only the servicepath)

  if (deletes_on_entity_delete(f) && is_delete(tree, entity)) {
    r.op = operation::remove;
    r.columns.add(kEntityId, value_kind::text, entity_id);
    out.rows.push_back(std::move(r));
    return;
  }
  r.op = f == flow::historic ? operation::insert : operation::upsert;

  scratch.reset();
  std::vector<attribute>& attrs = scratch.attrs;
  for (std::uint32_t c = json_tree::first_child(entity); c < e.next; c = tree.at(c).next) {
    std::string_view key = tree.at(c).key;
    if (is_reserved_member(key)) continue;
    std::string_view ngsi_type;
    bool renamed = false;
    if (mapped.rule) {
      ngsi_type = declared_type(tree, c);
      renamed = map_attribute(*mapped.rule, key, ngsi_type);
    }
    text::copy_lower_ascii(key, scratch.columns.extend(key.size()));
    attrs.push_back({c,
                     {},
                     false,
                     renamed,
                     renamed ? ngsi_type : std::string_view(),
                     0,
                     static_cast<std::uint32_t>(scratch.columns.size())});
  }
  // Views of the names once every name is in (the buffer may have grown).
  std::size_t at = 0;
  for (auto& a : attrs) {
    a.column = scratch.columns.view().substr(at, a.column_end - at);
    at = a.column_end;
    a.column_hash = column_builder::name_hash(a.column);
  }
  const auto max_attributes = static_cast<std::size_t>(std::max(rc.options.lim.max_attributes, 0));
  if (attrs.size() > max_attributes) {
    reject(name() + " has " + std::to_string(attrs.size()) + " attributes, more than limits.max_attributes (" +
           std::to_string(max_attributes) + ")");
    return;
  }

  // Every problem of the entity is counted, the first one is told: enough to
  // act on, and the message stays short whatever the entity holds.
  std::string first_problem;
  std::size_t problems = 0;
  auto problem = [&](std::string what) {
    if (problems++ == 0) first_problem = std::move(what);
  };
  for_each_clash(attrs, [&](std::size_t a, std::size_t b) {
    problem("attributes " + quoted(tree.at(attrs[a].node).key) + " and " + quoted(tree.at(attrs[b].node).key) +
            " both map to column " + quoted(attrs[a].column) + " (column names are lower-cased)");
    attrs[a].rejected = attrs[b].rejected = true;
  });

  column_builder& columns = scratch.builder;
  columns.add(kEntityIdColumn.name, kEntityIdColumn.hash, value_kind::text, entity_id);
  columns.add(kEntityTypeColumn.name, kEntityTypeColumn.hash, value_kind::text, entity_type);
  columns.add(kServicePathColumn.name, kServicePathColumn.hash, value_kind::text, ctx->servicepath);
  columns.add(kRecvTimeColumn.name, kRecvTimeColumn.hash, value_kind::timestamp, recv_time_text(rc.now_us), rc.now_us);

  for (auto& a : attrs) {
    if (a.rejected) continue;
    const json_node& an = tree.at(a.node);
    auto label = [&an] { return "attribute " + quoted(an.key); };
    if (a.column.empty()) {
      problem("an attribute has an empty name, which cannot be a column");
      continue;
    }
    if (an.key_has_nul && !a.mapped) {
      problem(label() + " has a NUL character (\\u0000) in its name");
      continue;
    }
    if (is_base_column(a.column)) {
      problem(label() + " collides with column " + quoted(a.column) +
              ", which Kafnus fills itself; rename the attribute");
      continue;
    }
    if (an.type != json_type::object) {
      problem(label() + " is " + describe(an.type) + ", expected an object {\"type\": …, \"value\": …}");
      continue;
    }
    std::string_view ngsi_type = a.type;  // a mapped attribute's type comes from its rule
    if (const std::uint32_t tn = tree.member(a.node, "type"); !a.mapped && tn != json_tree::npos) {
      const json_node& tv = tree.at(tn);
      if (tv.type == json_type::string) {
        ngsi_type = tv.text;
      } else if (tv.type != json_type::null) {
        problem(label() + " has a \"type\" that is " + describe(tv.type) + ", expected a string such as \"Number\"");
        continue;
      }
    }
    auto typed = type_value(a.column, ngsi_type, tree, tree.member(a.node, "value"), rc.options.lim, scratch.typed);
    if (!typed) {
      problem(label() + (ngsi_type.empty() ? std::string() : " of type " + quoted(ngsi_type)) + ": " +
              typed.err().message);
      continue;
    }
    const value_view v = typed.value();
    const bool time_instant = a.column == kTimeInstant;
    if (time_instant && v.kind == value_kind::timestamp) r.timeinstant_us = v.micros;
    // A null TimeInstant where it is not part of the key (lastdata) is one
    // that is missing: without the column, the upsert leaves the stored
    // TimeInstant alone (a NULL would clear a newer row's). Where it keys the
    // row, the entity is rejected below.
    if (time_instant && v.kind == value_kind::null && !keyed_by_time(f)) continue;
    columns.add(a.column, a.column_hash, v.kind, v.text, v.micros);
  }
  r.columns = columns.finish();

  if (problems > 0) {
    std::string message = name() + ": " + first_problem;
    if (problems > 1) message += " (and " + std::to_string(problems - 1) + " more problem(s) in this entity)";
    reject(std::move(message), std::move(r));
    return;
  }
  if (keyed_by_time(f) && !r.timeinstant_us) {
    const bool null_one = r.find(kTimeInstant).has_value();
    reject(name() + (null_one ? " has a null TimeInstant" : " has no TimeInstant") + "; the " +
               std::string(to_string(f)) +
               " flow needs it to key the row (entityid, timeinstant): include TimeInstant in the subscription's "
               "notification attrs",
           std::move(r));
    return;
  }
  out.rows.push_back(std::move(r));
}

}  // namespace kafnus::ngsi
