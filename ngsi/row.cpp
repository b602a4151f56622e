#include "ngsi/row.hpp"

namespace kafnus::ngsi {

std::optional<column_view> row::find(std::string_view name) const {
  for (const auto c : columns) {
    if (c.name == name) return c;
  }
  return std::nullopt;
}

std::size_t row::byte_size() const {
  // A std::string's text lives inside it up to 15 bytes, on the heap beyond.
  auto heap = [](const std::string& s) { return s.size() > 15 ? s.capacity() + 1 : 0; };
  return sizeof(row) + heap(table.schema) + heap(table.table) + heap(service) + columns.heap_bytes();
}

}  // namespace kafnus::ngsi
