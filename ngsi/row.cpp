#include "ngsi/row.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
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
  std::size_t names_size = 0;
  for (const auto& s : slots_) names_size += s.name_size;
  // Ends are 32-bit: a larger row stays as it is, without room to spare.
  if (4 * n + bytes_.size() - names_size > kMaxBytes) {
    bytes_.shrink_to_fit();
    slots_.shrink_to_fit();
    return;
  }
  thread_local column_builder builder;
  builder.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const column_view c = (*this)[i];
    builder.add(c.name, c.val.kind, c.val.text, c.val.micros);
  }
  column_list sealed = builder.finish();
  bytes_.swap(sealed.bytes_);  // (a move assignment of a short text would keep this buffer's room)
  std::vector<slot>().swap(slots_);
  layout_ = std::move(sealed.layout_);
}

void byte_buffer::grow(std::size_t more) {
  bytes_.resize(std::max({2 * bytes_.size(), size_ + more, std::size_t{64}}));
}

void column_builder::add(std::string_view name, std::uint64_t hash, value_kind kind, std::string_view text,
                         std::int64_t micros) {
  const bool instant = kind == value_kind::timestamp;
  // The row's names, texts, instants and ends together stay within the
  // 32-bit offsets: each column takes its share of one budget.
  const std::size_t takes = name.size() + text.size() + 4 + (instant ? sizeof micros : 0);
  if (takes > budget_) throw std::length_error("a row's names and values exceed 4 GiB");
  budget_ -= takes;
  names_.append(name);
  hash_.mix(hash ^ static_cast<std::uint64_t>(kind) << 56);  // the name's hash and its kind in one step
  texts_.append(text);
  if (instant) texts_.append(std::string_view(reinterpret_cast<const char*>(&micros), sizeof micros));
  columns_.push_back(added{static_cast<std::uint32_t>(names_.size()), static_cast<std::uint32_t>(texts_.size()), kind});
}

column_list column_builder::finish() {
  column_list out;
  const std::size_t n = columns_.size();
  if (n == 0) return out;
  const auto hash = static_cast<std::size_t>(hash_.h);
  const std::string_view names = names_.view();
  auto same = [&](const column_layout& l) {
    if (l.size() != n || std::string_view(l.names) != names) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (l.kinds[i] != columns_[i].kind || l.name_ends[i] != columns_[i].name_end) return false;
    }
    return true;
  };
  auto make = [&] {
    column_layout l;
    l.names = std::string(names);
    l.name_ends.reserve(n);
    l.kinds.reserve(n);
    for (const auto& c : columns_) {
      l.name_ends.push_back(c.name_end);
      l.kinds.push_back(c.kind);
    }
    l.hash = hash;
    return std::make_shared<const column_layout>(std::move(l));
  };
  out.layout_ = this_thread_layouts().get(hash, names.size() + 5 * n, same, make);
  // One allocation of the exact size, then appends (a sized assign would
  // zero the bytes first, only for them to be overwritten).
  std::string& bytes = out.bytes_;
  bytes.reserve(4 * n + texts_.size());
  char ends[256];  // 64 ends at a time
  for (std::size_t i = 0; i < n;) {
    std::size_t k = 0;
    for (; i < n && k < sizeof ends; ++i, k += 4) {
      const auto end = static_cast<std::uint32_t>(4 * n + columns_[i].end);
      std::memcpy(ends + k, &end, sizeof end);
    }
    bytes.append(ends, k);
  }
  bytes.append(texts_.data(), texts_.size());
  clear();
  return out;
}

void column_builder::clear() noexcept {
  // What an unusually large row made the builder keep is given back.
  constexpr std::size_t kKeepBytes = std::size_t{1} << 20;
  if (texts_.capacity() > kKeepBytes) texts_.release();
  if (names_.capacity() > kKeepBytes) names_.release();
  if (columns_.capacity() > kKeepBytes / sizeof(added)) std::vector<added>().swap(columns_);
  names_.clear();
  columns_.clear();
  hash_ = text::word_hash{};
  texts_.clear();
  budget_ = column_list::kMaxBytes;
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
  const std::size_t own_target =
      target_ && target_.use_count() == 1
          ? sizeof(row_target) + heap(target_->table.schema) + heap(target_->table.table) + heap(target_->service)
          : 0;
  return sizeof(row) + own_target + columns.heap_bytes();
}

const row_target& row::no_target() noexcept {
  static const row_target none;
  return none;
}

}  // namespace kafnus::ngsi
