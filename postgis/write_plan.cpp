#include "postgis/write_plan.hpp"

#include <algorithm>
#include <unordered_map>

namespace kafnus::postgis {
namespace {

bool is_optional_base_column(const std::string& name) {
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

// The key that decides whether two rows touch the same database row.
std::string row_key(const ngsi::row& r) {
  std::string k;
  k.reserve(r.table.schema.size() + r.table.table.size() + r.entity_id.size() + 24);
  k += r.table.schema;
  k += '\0';
  k += r.table.table;
  k += '\0';
  k += r.entity_id;
  const bool keyed_by_time = r.f != ngsi::flow::lastdata;
  if (keyed_by_time) {
    k += '\0';
    k += r.timeinstant_us ? std::to_string(*r.timeinstant_us) : std::string("-");
  }
  return k;
}

std::string shape_signature(const ngsi::row& r, const std::vector<std::uint16_t>& idx) {
  std::string s;
  s += r.table.schema;
  s += '\0';
  s += r.table.table;
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

// Whether a later upsert of the same key replaces an earlier one.
bool later_wins(const ngsi::row& earlier, const ngsi::row& later) {
  if (later.f == ngsi::flow::lastdata && earlier.timeinstant_us && later.timeinstant_us) {
    return *later.timeinstant_us >= *earlier.timeinstant_us;
  }
  return true;
}

class planner {
 public:
  planner(const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of, unknown_column_policy policy)
      : schema_of_(schema_of), policy_(policy) {}

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

  void add(const tagged_row& tr) {
    const ngsi::row& r = *tr.row;
    const table_schema& schema = schema_of_(r.table);
    if (!schema.exists) {
      plan_.rejected.push_back(
          {tr.row, tr.tag, "ERROR: relation \"" + r.table.schema + "." + r.table.table + "\" does not exist"});
      return;
    }
    std::vector<std::uint16_t> idx;
    idx.reserve(r.columns.size());
    for (std::size_t i = 0; i < r.columns.size(); ++i) {
      const auto& name = r.columns[i].name;
      if (name != ngsi::kEntityId && !schema.has(name)) {
        if (is_optional_base_column(name)) continue;
        if (policy_ == unknown_column_policy::drop) {
          ++plan_.dropped_attributes[static_cast<std::size_t>(r.f)];
          continue;
        }
      }
      idx.push_back(static_cast<std::uint16_t>(i));
    }
    std::sort(idx.begin(), idx.end(),
              [&](std::uint16_t a, std::uint16_t b) { return r.columns[a].name < r.columns[b].name; });

    std::string key = row_key(r);
    std::string sig = shape_signature(r, idx);
    auto git = group_by_sig_.find(sig);
    auto kit = key_loc_.find(key);
    if (kit != key_loc_.end()) {
      if (git != group_by_sig_.end() && kit->second.group == git->second) {
        if (fold(kit->second, tr, idx)) return;
      } else {
        flush();
        git = group_by_sig_.end();
      }
    }
    std::size_t g;
    if (git == group_by_sig_.end()) {
      g = segment_.size();
      segment_.push_back(make_group(r, idx, schema));
      group_by_sig_.emplace(std::move(sig), g);
    } else {
      g = git->second;
    }
    auto& group = segment_[g];
    group.rows.push_back(planned_row{tr.row, tr.tag, std::move(idx)});
    key_loc_[std::move(key)] = location{g, group.rows.size() - 1};
  }

  // Folds a row into the earlier row of the same key in the same group.
  // Returns false when both rows must be kept (historic inserts: the
  // database decides whether the second one is a duplicate).
  bool fold(const location& loc, const tagged_row& tr, std::vector<std::uint16_t>& idx) {
    auto& group = segment_[loc.group];
    auto& earlier = group.rows[loc.pos];
    switch (tr.row->op) {
      case ngsi::operation::insert: return false;
      case ngsi::operation::remove: ++group.folded; return true;
      case ngsi::operation::upsert:
        ++group.folded;
        if (later_wins(*earlier.row, *tr.row)) {
          earlier.row = tr.row;
          earlier.tag = tr.tag;
          earlier.value_index = std::move(idx);
        }
        return true;
    }
    return false;
  }

  statement_group make_group(const ngsi::row& r, const std::vector<std::uint16_t>& idx, const table_schema& schema) {
    statement_group g;
    g.table = r.table;
    g.flow = r.f;
    g.op = r.op;
    for (auto i : idx) {
      const auto& c = r.columns[i];
      group_column gc;
      gc.name = c.name;
      gc.kind = c.val.kind;
      if (gc.kind != ngsi::value_kind::null) {
        gc.stage_index = static_cast<int>(g.stage_kinds.size());
        g.stage_kinds.push_back(gc.kind);
      }
      if (const auto* target = schema.find(c.name)) {
        gc.target_exists = true;
        gc.target_is_json = target->is_json;
        gc.target_type = target->type;
      }
      g.columns.push_back(std::move(gc));
    }
    return g;
  }

  void flush() {
    for (auto& g : segment_) plan_.groups.push_back(std::move(g));
    segment_.clear();
    group_by_sig_.clear();
    key_loc_.clear();
  }

  const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of_;
  unknown_column_policy policy_;
  write_plan plan_;
  std::vector<statement_group> segment_;
  std::unordered_map<std::string, std::size_t> group_by_sig_;
  std::unordered_map<std::string, location> key_loc_;
};

}  // namespace

write_plan build_plan(const std::vector<tagged_row>& rows,
                      const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of,
                      unknown_column_policy policy) {
  return planner(schema_of, policy).run(rows);
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
    const std::vector<tagged_row>& rows,
    const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of) {
  std::vector<column_addition> out;
  std::vector<bool> typed;  // whether out[i].type came from a non-null value
  for (const auto& tr : rows) {
    const auto& r = *tr.row;
    const auto& schema = schema_of(r.table);
    if (!schema.exists) continue;
    for (const auto& c : r.columns) {
      if (c.name == ngsi::kEntityId || is_optional_base_column(c.name) || schema.has(c.name)) continue;
      auto same = [&](const column_addition& a) { return a.table == r.table && a.column == c.name; };
      auto it = std::find_if(out.begin(), out.end(), same);
      const bool is_null = c.val.kind == ngsi::value_kind::null;
      if (it == out.end()) {
        out.push_back({r.table, c.name, column_type_for(c.val.kind)});
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
  // FNV-1a: long shapes get a stable hashed name.
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : letters) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static const char* hex = "0123456789abcdef";
  std::string name = "kafnus_stage_h";
  for (int i = 0; i < 16; ++i) name += hex[(h >> (60 - 4 * i)) & 15];
  return name + "_" + std::to_string(kinds.size());
}

}  // namespace kafnus::postgis
