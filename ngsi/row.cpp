#include "ngsi/row.hpp"

#include <cstring>
#include <unordered_map>
#include <utility>

#include "text/word_hash.hpp"

namespace kafnus::ngsi {

namespace {

// This thread's layouts by hash: the rows of one shape sealed on one thread
// share one. Bounded in layouts and in bytes, as shapes come from message
// content: past either bound it starts again (rows keep the layouts they
// hold alive), and a layout of more than a sixteenth of the bytes is not
// kept at all (its row has it to itself).
class layout_cache {
 public:
  static constexpr std::size_t kMaxLayouts = 1024;
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 20;

  template <class Same, class Make>
  std::shared_ptr<const column_layout> get(std::size_t hash, std::size_t bytes, Same&& same, Make&& make) {
    if (bytes > kMaxBytes / 16) return make();
    auto range = by_hash_.equal_range(hash);
    for (auto it = range.first; it != range.second; ++it) {
      if (same(*it->second)) return it->second;
    }
    if (by_hash_.size() >= kMaxLayouts || bytes_ + bytes > kMaxBytes) {
      by_hash_.clear();
      bytes_ = 0;
    }
    bytes_ += bytes;
    return by_hash_.emplace(hash, make())->second;
  }

 private:
  std::unordered_multimap<std::size_t, std::shared_ptr<const column_layout>> by_hash_;
  std::size_t bytes_ = 0;  // the layouts' names and kinds
};

layout_cache& this_thread_layouts() {
  thread_local layout_cache cache;
  return cache;
}

}  // namespace

void column_list::seal() {
  const std::size_t n = slots_.size();
  if (layout_ || n == 0) return;
  text::word_hash h;
  std::size_t names_size = 0;
  for (const auto& s : slots_) {
    h.add(std::string_view(bytes_).substr(s.at, s.name_size));
    h.add_byte(static_cast<unsigned char>(s.kind));
    names_size += s.name_size;
  }
  const auto hash = static_cast<std::size_t>(h.h);
  const std::size_t packed_size = 4 * n + bytes_.size() - names_size;
  if (packed_size > kMaxBytes) {  // ends are 32-bit: such a row stays as it is, without room to spare
    bytes_.shrink_to_fit();
    slots_.shrink_to_fit();
    return;
  }
  auto name_of = [this](const slot& s) { return std::string_view(bytes_).substr(s.at, s.name_size); };
  auto same = [&](const column_layout& l) {
    if (l.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (l.kinds[i] != slots_[i].kind || l.name(i) != name_of(slots_[i])) return false;
    }
    return true;
  };
  auto make = [&] {
    auto l = std::make_shared<column_layout>();
    l->names.reserve(names_size);
    l->name_ends.reserve(n);
    l->kinds.reserve(n);
    for (const auto& s : slots_) {
      l->names.append(name_of(s));
      l->name_ends.push_back(static_cast<std::uint32_t>(l->names.size()));
      l->kinds.push_back(s.kind);
    }
    l->hash = hash;
    return std::shared_ptr<const column_layout>(std::move(l));
  };
  auto layout = this_thread_layouts().get(hash, names_size + 5 * n, same, make);
  std::string packed(packed_size, '\0');
  char* const out = packed.data();
  std::size_t used = 4 * n;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t text_at = text_begin(i);
    const std::size_t size = text_stop(i) - text_at;
    std::memcpy(out + used, bytes_.data() + text_at, size);
    used += size;
    const auto end = static_cast<std::uint32_t>(used);
    std::memcpy(out + 4 * i, &end, sizeof end);
  }
  bytes_.swap(packed);  // (a move assignment of a short text would keep this buffer's room)
  std::vector<slot>().swap(slots_);
  layout_ = std::move(layout);
}

void column_list::unseal() {
  const std::size_t n = layout_->size();
  std::vector<slot> slots;
  slots.reserve(n + 1);
  std::string building;
  building.reserve(layout_->names.size() + bytes_.size() - 4 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t text_at = text_begin(i);
    slots.push_back(slot{static_cast<std::uint32_t>(building.size()),
                         static_cast<std::uint32_t>(layout_->name(i).size()), layout_->kinds[i]});
    building.append(layout_->name(i));
    building.append(bytes_, text_at, text_stop(i) - text_at);
  }
  slots_ = std::move(slots);
  bytes_.swap(building);  // (as in seal(): a move assignment could keep the old buffer's room)
  layout_.reset();
}

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
