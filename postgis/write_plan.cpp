#include "postgis/write_plan.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>

#include "text/ascii.hpp"
#include "text/word_hash.hpp"

namespace kafnus::postgis {
namespace {

// Whether COPY text input of `kind` into a column of `type` stores what the
// assignment cast of the staged value would.
bool same_as_staged(ngsi::value_kind kind, const std::string& type) {
  const bool text_type = is_text_type(type);
  switch (kind) {
    case ngsi::value_kind::null: return true;
    case ngsi::value_kind::text: return text_type;
    case ngsi::value_kind::boolean: return type == "boolean" || text_type;
    case ngsi::value_kind::number:
      return type == "double precision" || type == "real" || text::starts_with(type, "numeric") || text_type;
    case ngsi::value_kind::json: return type == "json" || type == "jsonb" || text_type;
    case ngsi::value_kind::timestamp:
      return type == "timestamp with time zone" || type == "timestamp without time zone";
    case ngsi::value_kind::geometry: return text::starts_with(type, "geometry") || text_type;
  }
  return false;
}

bool integer_type(const std::string& type) { return type == "bigint" || type == "integer" || type == "smallint"; }

bool is_optional_base_column(std::string_view name) {
  return name == ngsi::kEntityType || name == ngsi::kServicePath || name == ngsi::kRecvTime;
}

char kind_letter(ngsi::value_kind k) {
  switch (k) {
    case ngsi::value_kind::null: return 'z';
    case ngsi::value_kind::boolean: return 'b';
    case ngsi::value_kind::number: return 'n';
    case ngsi::value_kind::text: return 't';
    case ngsi::value_kind::json: return 'j';
    case ngsi::value_kind::timestamp: return 's';
    case ngsi::value_kind::geometry: return 'g';
  }
  return 'z';
}

// FNV-1a: the names of long staging tables.
struct fnv1a {
  std::uint64_t h = 1469598103934665603ULL;
  void add_bytes(std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  }
};

// The hash that finds a row's shape among those seen (planner::shape::holds
// decides).
std::uint64_t shape_hash(const ngsi::row& r) {
  text::word_hash h;
  h.add(r.table().schema);
  h.add(r.table().table);
  h.add_byte(static_cast<unsigned char>(r.op));
  h.add_byte(static_cast<unsigned char>(r.f));
  if (const auto* layout = r.columns.layout()) {
    h.mix(layout->hash);  // its names and kinds, hashed once when the row was sealed
    return h.h;
  }
  for (const auto& c : r.columns) {
    h.add(c.name);
    h.add_byte(static_cast<unsigned char>(c.val.kind));
  }
  return h.h;
}

// The key that decides whether two rows touch the same database row: the
// table, the entity id and, except for lastdata, the TimeInstant. Views into
// the rows, which outlive the plan's construction.
struct row_key {
  std::size_t table_id = 0;
  std::string_view entity;
  unsigned char time_state = 0;  // 0: not keyed by time (lastdata), 1: no TimeInstant, 2: `time` holds it
  std::int64_t time = 0;
  friend bool operator==(const row_key& a, const row_key& b) {
    return a.table_id == b.table_id && a.time_state == b.time_state && a.time == b.time && a.entity == b.entity;
  }
};

struct row_key_hash {
  std::size_t operator()(const row_key& k) const noexcept {
    std::size_t h = std::hash<std::string_view>{}(k.entity);
    h ^= (k.table_id + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    h ^= (static_cast<std::size_t>(k.time) * 0x9e3779b97f4a7c15ULL) + k.time_state;
    return h;
  }
};

std::string shape_signature(const ngsi::row& r, const std::vector<std::uint16_t>& idx) {
  std::string s;
  s += r.table().schema;
  s += '\0';
  s += r.table().table;
  s += '\0';
  s += static_cast<char>('0' + static_cast<int>(r.op));
  s += static_cast<char>('0' + static_cast<int>(r.f));
  for (auto i : idx) {
    s += '\0';
    s += r.columns[i].name;
    s += kind_letter(r.columns[i].val.kind);
  }
  return s;
}

}  // namespace

direct_read direct_read_of(const group_column& c) {
  if (!c.target_exists) return direct_read::differs;
  if (same_as_staged(c.kind, c.target_type)) return direct_read::same;
  // Integers go straight in only when written as integers (a staged 1.5
  // is rounded by the cast, a COPY of "1.5" into an integer fails).
  if (c.kind == ngsi::value_kind::number && integer_type(c.target_type)) return direct_read::integer_literals;
  return direct_read::differs;
}

std::string insert_statement_key(const statement_group& g) {
  std::string key;
  key.reserve(256);
  const auto add = [&key](std::string_view part) {
    key += part;
    key += '\0';
  };
  add(g.table.schema);
  add(g.table.table);
  // An upsert's conflict clause follows its flow (keys, freshness rule).
  key += static_cast<char>('0' + static_cast<int>(g.op));
  key += static_cast<char>('0' + static_cast<int>(g.flow));
  for (const auto& c : g.columns) {
    add(c.name);
    add(c.target_type);
  }
  return key;
}

namespace {

// Whether a later upsert of the same key replaces an earlier one.
bool later_wins(const ngsi::row& earlier, const ngsi::row& later) {
  return ngsi::replaces(later.f, earlier.timeinstant_us, later.timeinstant_us);
}

// The columns of a group planned from a shape, without rows.
statement_group group_template(const ngsi::row& r, const std::vector<std::uint16_t>& idx, const table_schema& schema) {
  statement_group g;
  g.table = r.table();
  g.flow = r.f;
  g.op = r.op;
  g.copy_into_target = schema.accepts_copy();
  std::vector<group_column> columns;
  std::vector<ngsi::value_kind> stage_kinds;
  columns.reserve(idx.size());
  for (auto i : idx) {
    const auto& c = r.columns[i];
    group_column gc;
    gc.name = c.name;
    gc.kind = c.val.kind;
    if (const auto* target = schema.find(c.name)) {
      gc.target_exists = true;
      gc.target_is_json = target->is_json;
      gc.target_type = target->type;
    }
    gc.direct = direct_read_of(gc);
    if (gc.kind != ngsi::value_kind::null) {
      gc.stage_index = static_cast<int>(stage_kinds.size());
      // A number into a text column keeps the text it was written as
      // ("1E5"), as a COPY straight into the table stores it; a double
      // precision staging column would give "100000".
      const bool as_text = gc.kind == ngsi::value_kind::number && gc.target_exists && is_text_type(gc.target_type);
      stage_kinds.push_back(as_text ? ngsi::value_kind::text : gc.kind);
    }
    columns.push_back(std::move(gc));
  }
  g.columns = shared_vector<group_column>(std::move(columns));
  g.stage_kinds = shared_vector<ngsi::value_kind>(std::move(stage_kinds));
  g.insert_key = std::make_shared<const std::string>(insert_statement_key(g));
  return g;
}

std::shared_ptr<const shape_info> plan_shape(const ngsi::row& r, const table_schema& schema,
                                             unknown_column_policy policy) {
  auto sh = std::make_shared<shape_info>();
  sh->table = r.table();
  sh->op = r.op;
  sh->f = r.f;
  sh->policy = policy;
  sh->schema_id = schema.id;
  sh->columns.reserve(r.columns.size());
  std::vector<std::uint16_t> idx;
  idx.reserve(r.columns.size());
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    const auto c = r.columns[i];
    sh->columns.emplace_back(std::string(c.name), c.val.kind);
    if (c.name != ngsi::kEntityId && !schema.has(c.name)) {
      if (is_optional_base_column(c.name)) continue;
      if (policy == unknown_column_policy::drop) {
        ++sh->dropped;
        continue;
      }
    }
    idx.push_back(static_cast<std::uint16_t>(i));
  }
  std::sort(idx.begin(), idx.end(),
            [&](std::uint16_t a, std::uint16_t b) { return r.columns[a].name < r.columns[b].name; });
  sh->sig = shape_signature(r, idx);
  sh->group = group_template(r, idx, schema);
  sh->idx = shared_vector<std::uint16_t>(std::move(idx));
  return sh;
}

class planner {
 public:
  planner(const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of, unknown_column_policy policy,
          shape_cache* cache)
      : schema_of_(schema_of), policy_(policy), cache_(cache) {}

  write_plan run(const std::vector<tagged_row>& rows) {
    for (const auto& tr : rows) add(tr);
    flush();
    return std::move(plan_);
  }

 private:
  struct location {
    std::size_t group;
    std::size_t pos;
  };

  // A distinct row shape of this transaction: what was planned for it (this
  // time or, from the cache, in an earlier transaction), and its group's
  // index in the current segment.
  struct shape {
    static constexpr std::size_t kKnownLayouts = 16;

    const ngsi::row* exemplar = nullptr;
    // Layouts of rows found to be of this shape, the exemplar's first: rows
    // sealed with one layout share its names and kinds, and each processor
    // seals its rows with layouts of its own, so a shape's rows come with a
    // few; a row with a known one needs no column-by-column comparison.
    // (The rows, and so their layouts, outlive the planning.)
    std::vector<const ngsi::column_layout*> layouts;
    std::shared_ptr<const shape_info> info;
    std::size_t table_id = 0;
    std::size_t group = 0;
    std::uint64_t group_segment = 0;  // segment_number_ when `group` was set (0: never)

    // Whether `r` has this shape as far as planning is concerned: the same
    // table, operation and flow, and the same (name, kind) columns in the
    // same order.
    bool holds(const ngsi::row& r) {
      const ngsi::row& a = *exemplar;
      if (a.op != r.op || a.f != r.f || a.columns.size() != r.columns.size() ||
          (a.target() != r.target() && a.table() != r.table())) {  // (rows of one target share its table)
        return false;
      }
      const auto* layout = r.columns.layout();
      if (layout != nullptr && std::find(layouts.begin(), layouts.end(), layout) != layouts.end()) return true;
      for (std::size_t i = 0; i < a.columns.size(); ++i) {
        if (a.columns[i].val.kind != r.columns[i].val.kind || a.columns[i].name != r.columns[i].name) return false;
      }
      if (layout != nullptr && layouts.size() < kKnownLayouts) layouts.push_back(layout);
      return true;
    }
  };

  shape& shape_of(const ngsi::row& r, const table_schema& schema) {
    const std::uint64_t h = shape_hash(r);
    auto range = shape_by_hash_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      if (shapes_[it->second].holds(r)) return shapes_[it->second];
    }
    shape sh;
    sh.exemplar = &r;
    if (const auto* layout = r.columns.layout()) sh.layouts.push_back(layout);
    sh.info = cache_ != nullptr && schema.id != 0 ? cache_->get(h, r, schema, policy_) : plan_shape(r, schema, policy_);
    const auto& t = sh.info->table;
    sh.table_id =
        table_ids_.emplace(std::make_pair(std::string_view(t.schema), std::string_view(t.table)), table_ids_.size())
            .first->second;
    shape_by_hash_.emplace(h, shapes_.size());
    shapes_.push_back(std::move(sh));
    return shapes_.back();
  }

  void add(const tagged_row& tr) {
    const ngsi::row& r = *tr.row;
    const table_schema& schema = schema_of_(r.table());
    if (!schema.exists) {
      plan_.rejected.push_back(
          {tr.row, tr.tag, "ERROR: relation \"" + r.table().schema + "." + r.table().table + "\" does not exist"});
      return;
    }
    shape& sh = shape_of(r, schema);
    const shape_info& info = *sh.info;
    plan_.dropped_attributes[static_cast<std::size_t>(r.f)] += info.dropped;

    row_key key{sh.table_id, r.entity_id(), 0, 0};
    if (ngsi::keyed_by_time(r.f)) {
      key.time_state = r.timeinstant_us ? 2 : 1;
      key.time = r.timeinstant_us.value_or(0);
    }
    // The group of this shape's signature in the current segment, if any
    // (shapes differing only in column order share one).
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t g = none;
    if (sh.group_segment == segment_number_) {
      g = sh.group;
    } else if (auto it = group_by_sig_.find(info.sig); it != group_by_sig_.end()) {
      g = it->second;
    }
    auto kit = key_loc_.find(key);
    if (kit != key_loc_.end()) {
      if (g != none && kit->second.group == g) {
        if (fold(kit->second, tr, info.idx)) return;
      } else {
        flush();
        g = none;
      }
    }
    if (g == none) {
      g = segment_.size();
      segment_.push_back(info.group);
      group_by_sig_.emplace(info.sig, g);
    }
    sh.group = g;
    sh.group_segment = segment_number_;
    auto& group = segment_[g];
    group.rows.push_back(planned_row{tr.row, tr.tag, info.idx});
    key_loc_[key] = location{g, group.rows.size() - 1};
  }

  // Folds a row into the earlier row of the same key in the same group.
  // Returns false when both rows must be kept (historic inserts: the
  // database decides whether the second one is a duplicate).
  bool fold(const location& loc, const tagged_row& tr, const shared_vector<std::uint16_t>& idx) {
    auto& group = segment_[loc.group];
    auto& earlier = group.rows[loc.pos];
    switch (tr.row->op) {
      case ngsi::operation::insert: return false;
      case ngsi::operation::remove:
        ++group.folded;
        group.folded_rows.push_back(tr.row);
        return true;
      case ngsi::operation::upsert:
        ++group.folded;
        if (later_wins(*earlier.row, *tr.row)) {
          group.folded_rows.push_back(earlier.row);
          earlier.row = tr.row;
          earlier.tag = tr.tag;
          earlier.value_index = idx;
        } else {
          group.folded_rows.push_back(tr.row);
        }
        return true;
    }
    return false;
  }

  void flush() {
    for (auto& g : segment_) plan_.groups.push_back(std::move(g));
    segment_.clear();
    group_by_sig_.clear();
    key_loc_.clear();
    ++segment_number_;  // every shape's cached group is stale
  }

  const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of_;
  unknown_column_policy policy_;
  shape_cache* cache_;  // may be null
  write_plan plan_;
  std::vector<statement_group> segment_;
  // Views into the shapes' shape_info, which shapes_ holds for the run.
  std::unordered_map<std::string_view, std::size_t> group_by_sig_;
  std::unordered_map<row_key, location, row_key_hash> key_loc_;
  std::deque<shape> shapes_;  // stable addresses: add() holds a reference across shape_of()
  std::unordered_multimap<std::uint64_t, std::size_t> shape_by_hash_;
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> table_ids_;  // views as group_by_sig_'s
  std::uint64_t segment_number_ = 1;
};

}  // namespace

write_plan build_plan(const std::vector<tagged_row>& rows,
                      const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of,
                      unknown_column_policy policy, shape_cache* cache) {
  return planner(schema_of, policy, cache).run(rows);
}

bool shape_info::same_shape(const ngsi::row& r, unknown_column_policy p) const {
  if (r.op != op || r.f != f || p != policy || r.columns.size() != columns.size() || r.table() != table) return false;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto c = r.columns[i];
    if (c.val.kind != columns[i].second || c.name != columns[i].first) return false;
  }
  return true;
}

std::shared_ptr<const shape_info> shape_cache::get(std::uint64_t hash, const ngsi::row& r, const table_schema& schema,
                                                   unknown_column_policy policy) {
  auto range = by_hash_.equal_range(hash);
  for (auto it = range.first; it != range.second; ++it) {
    if (!it->second->same_shape(r, policy)) continue;
    if (it->second->schema_id != schema.id) it->second = plan_shape(r, schema, policy);  // an older schema's
    return it->second;
  }
  if (by_hash_.size() >= capacity_) by_hash_.clear();
  return by_hash_.emplace(hash, plan_shape(r, schema, policy))->second;
}

const char* column_type_for(ngsi::value_kind kind) {
  switch (kind) {
    case ngsi::value_kind::boolean: return "boolean";
    case ngsi::value_kind::number: return "double precision";
    case ngsi::value_kind::json: return "jsonb";
    case ngsi::value_kind::timestamp: return "timestamp with time zone";
    case ngsi::value_kind::geometry: return "geometry(Geometry,4326)";
    case ngsi::value_kind::text:
    case ngsi::value_kind::null: return "text";
  }
  return "text";
}

std::vector<column_addition> missing_columns(
    const std::vector<tagged_row>& rows, const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of) {
  std::vector<column_addition> out;
  std::vector<bool> typed;  // whether out[i].type came from a non-null value
  for (const auto& tr : rows) {
    const auto& r = *tr.row;
    const auto& schema = schema_of(r.table());
    if (!schema.exists) continue;
    for (const auto& c : r.columns) {
      if (c.name == ngsi::kEntityId || is_optional_base_column(c.name) || schema.has(c.name)) continue;
      auto same = [&](const column_addition& a) { return a.table == r.table() && a.column == c.name; };
      auto it = std::find_if(out.begin(), out.end(), same);
      const bool is_null = c.val.kind == ngsi::value_kind::null;
      if (it == out.end()) {
        out.push_back({r.table(), std::string(c.name), column_type_for(c.val.kind)});
        typed.push_back(!is_null);
      } else if (!typed[static_cast<std::size_t>(it - out.begin())] && !is_null) {
        it->type = column_type_for(c.val.kind);  // a NULL seen first says nothing about the type
        typed[static_cast<std::size_t>(it - out.begin())] = true;
      }
    }
  }
  return out;
}

std::string stage_name(const std::vector<ngsi::value_kind>& kinds) {
  std::string letters;
  for (auto k : kinds) letters += kind_letter(k);
  if (letters.size() <= 40) return "kafnus_stage_" + letters;
  // Long shapes get a stable hashed name.
  fnv1a fnv;
  fnv.add_bytes(letters);
  const std::uint64_t h = fnv.h;
  static const char* hex = "0123456789abcdef";
  std::string name = "kafnus_stage_h";
  for (int i = 0; i < 16; ++i) name += hex[(h >> (60 - 4 * i)) & 15];
  return name + "_" + std::to_string(kinds.size());
}

}  // namespace kafnus::postgis
