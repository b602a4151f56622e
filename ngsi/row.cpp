#include "ngsi/row.hpp"

namespace kafnus::ngsi {

const column* row::find(const std::string& name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::size_t row::byte_size() const {
  std::size_t n = sizeof(row) + table.schema.size() + table.table.size() + service.size() + entity_id.size();
  for (const auto& c : columns) n += sizeof(column) + c.name.size() + c.val.text.size();
  return n;
}

}  // namespace kafnus::ngsi
