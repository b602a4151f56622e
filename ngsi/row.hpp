#pragma once
// One row for one entity of one notification, in the table of its flow.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ngsi/flow.hpp"
#include "ngsi/table_name.hpp"
#include "ngsi/value.hpp"
#include "text/word_hash.hpp"

namespace kafnus::ngsi {

enum class operation : unsigned char {
  insert,  // historic: plain INSERT; a duplicate key is a data error
  upsert,  // lastdata: ON CONFLICT (entityid) with the freshness rule;
           // mutable: ON CONFLICT (entityid, timeinstant), last write wins
  remove,  // lastdata entityDelete: DELETE ... WHERE entityid = ...
};

// A column to add to a row: a name and its value, each owning its text.
struct column {
  std::string name;  // lower-cased attribute name, or a base column
  value val;
};

// A column as a row holds it: views into the row, valid while the row lives
// and is not added to (a copied or moved row has its own).
struct column_view {
  std::string_view name;
  value_view val;
};

// The names and kinds of a row's columns, in order: what rows of one shape
// share (column_builder::finish, column_list::seal). Immutable once shared.
struct column_layout {
  std::string names;                     // one after the other
  std::vector<std::uint32_t> name_ends;  // where each name ends in `names`
  std::vector<value_kind> kinds;
  std::size_t hash = 0;  // each name's column_builder::name_hash with its kind, mixed in order

  std::size_t size() const noexcept { return kinds.size(); }
  std::string_view name(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : name_ends[i - 1];
    return std::string_view(names).substr(begin, name_ends[i] - begin);
  }
};

class column_builder;

// A row's columns in one buffer. While a row is built, every name and text
// one after the other (a timestamp's instant, 8 bytes, after its text), and
// a 12-byte slot per column that says where they start. Once sealed
// (seal()), the names and kinds move to a column_layout shared with every
// row of the same columns (interned per thread), and the buffer keeps a
// 4-byte end per column, then the texts: a row takes about the bytes of its
// texts plus 4 per column, in one allocation. The writer reads it front to
// back and frees it in one go. Append-only: a row's columns never change
// once added (adding to a sealed list unseals it first). The transform
// builds its rows sealed, through a column_builder.
class column_list {
 public:
  column_list() = default;
  column_list(std::initializer_list<column> columns) {  // NOLINT: reads as the columns it holds
    for (const auto& c : columns) push_back(c);
  }

  void reserve(std::size_t columns, std::size_t bytes) {
    if (layout_) unseal();
    slots_.reserve(columns);
    bytes_.reserve(bytes);
  }
  void push_back(const column& c) { add(c.name, c.val.kind, c.val.text, c.val.micros); }
  void add(std::string_view name, value_kind kind, std::string_view text, std::int64_t micros = 0) {
    if (layout_) unseal();
    const bool instant = kind == value_kind::timestamp;
    if (bytes_.size() + name.size() + text.size() + (instant ? sizeof micros : 0) > kMaxBytes) {
      throw std::length_error("a row's names and values exceed 4 GiB");
    }
    slots_.push_back(slot{static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(name.size()), kind});
    bytes_.append(name);
    bytes_.append(text);
    if (instant) bytes_.append(reinterpret_cast<const char*>(&micros), sizeof micros);
  }
  // The row is complete: its names and kinds go to the shared layout of its
  // shape (this thread's, or a new one), its buffer keeps only the texts,
  // without room to spare.
  void seal();
  bool sealed() const noexcept { return layout_ != nullptr; }
  // The shared layout once sealed (rows of one shape sealed on one thread
  // share one), else null.
  const column_layout* layout() const noexcept { return layout_.get(); }

  std::size_t size() const noexcept { return layout_ ? layout_->size() : slots_.size(); }
  bool empty() const noexcept { return size() == 0; }
  // Const, so that assigning to a column of a row does not compile (it
  // would change a copy): rows are built with add(), never changed.
  const column_view operator[](std::size_t i) const noexcept {  // NOLINT(readability-const-return-type)
    const std::string_view name =
        layout_ ? layout_->name(i) : std::string_view(bytes_).substr(slots_[i].at, slots_[i].name_size);
    return column_view{name, value(i)};
  }
  // Column i's value alone (what the writer reads per value: no name).
  value_view value(std::size_t i) const noexcept {
    const value_kind kind = layout_ ? layout_->kinds[i] : slots_[i].kind;
    const std::size_t text_at = text_begin(i);
    std::size_t text_end = text_stop(i);
    std::int64_t micros = 0;
    if (kind == value_kind::timestamp) {
      text_end -= sizeof micros;
      std::memcpy(&micros, bytes_.data() + text_end, sizeof micros);
    }
    return value_view{kind, std::string_view(bytes_).substr(text_at, text_end - text_at), micros};
  }
  // The bytes of the list's buffer: at least the sum of its texts' sizes.
  std::size_t buffer_bytes() const noexcept { return bytes_.size(); }
  const column_view back() const noexcept {  // NOLINT(readability-const-return-type)
    return (*this)[size() - 1];
  }
  // Heap bytes the list holds (a layout only when no other row or cache
  // holds it: a shape's rows share theirs, a layout too large to keep is
  // its row's own).
  std::size_t heap_bytes() const noexcept {
    const std::size_t own_layout =
        layout_ && layout_.use_count() == 1 ? layout_->names.size() + 5 * layout_->size() : 0;
    return slots_.capacity() * sizeof(slot) + bytes_.capacity() + own_layout;
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = column_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = const column_view;
    const_iterator(const column_list* l, std::size_t i) : l_(l), i_(i) {}
    const column_view operator*() const noexcept { return (*l_)[i_]; }  // NOLINT(readability-const-return-type)
    const_iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) noexcept {
      auto before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.i_ == b.i_ && a.l_ == b.l_; }
    friend bool operator!=(const const_iterator& a, const const_iterator& b) { return !(a == b); }

   private:
    const column_list* l_;
    std::size_t i_;
  };
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, size()}; }

 private:
  static constexpr std::size_t kMaxBytes = 0xffffffffu;  // offsets are 32-bit
  struct slot {
    std::uint32_t at = 0;  // where the name starts in bytes_; the text follows it
    std::uint32_t name_size = 0;
    value_kind kind = value_kind::null;
  };
  static_assert(sizeof(slot) == 12);
  // Where column i's text begins in bytes_, and where it ends (with its
  // instant, when it has one), in either form.
  std::size_t text_begin(std::size_t i) const noexcept {
    if (!layout_) return std::size_t{slots_[i].at} + slots_[i].name_size;
    return i == 0 ? 4 * layout_->size() : sealed_end(i - 1);
  }
  std::size_t text_stop(std::size_t i) const noexcept {
    if (layout_) return sealed_end(i);
    return i + 1 < slots_.size() ? slots_[i + 1].at : bytes_.size();
  }
  std::size_t sealed_end(std::size_t i) const noexcept {
    std::uint32_t e = 0;
    std::memcpy(&e, bytes_.data() + 4 * i, sizeof e);
    return e;
  }
  // Back to the building form (names and slots in this list).
  void unseal();
  friend class column_builder;

  std::vector<slot> slots_;  // building only
  std::string bytes_;
  std::shared_ptr<const column_layout> layout_;  // sealed only
};

// Builds sealed column lists without a building form: names and kinds go
// to a layout in the making, texts to a buffer of their own, both kept from
// one list to the next; finish() looks the layout up among this thread's
// (as column_list::seal() does) and gives the list its one buffer, of
// exactly its size. What the transform builds every row with: no slot per
// column, no buffer grown and then repacked.
// Bytes appended one after the other, without a call into the library when
// there is room (a builder keeps its buffers' capacity from one row to the
// next, so there nearly always is): std::string::append is a call per
// column. The bytes past size() are the buffer's own.
class byte_buffer {
 public:
  // Most of what a row holds is a few bytes (a name, a number): up to 16
  // are copied inline, as two overlapping words, without a call to memcpy.
  void append(std::string_view s) {
    const std::size_t n = s.size();
    if (n == 0) return;
    char* const to = extend(n);
    const char* const from = s.data();
    if (n > 16) {
      std::memcpy(to, from, n);
    } else if (n >= 8) {
      copy_ends<std::uint64_t>(to, from, n);
    } else if (n >= 4) {
      copy_ends<std::uint32_t>(to, from, n);
    } else {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  // Room for n more bytes at the end, for the caller to write.
  char* extend(std::size_t n) {
    if (n > bytes_.size() - size_) grow(n);
    char* const at = bytes_.data() + size_;
    size_ += n;
    return at;
  }
  const char* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return bytes_.size(); }
  std::string_view view() const noexcept { return {bytes_.data(), size_}; }
  void clear() noexcept { size_ = 0; }
  // Gives its memory back.
  void release() noexcept {
    std::vector<char>().swap(bytes_);
    size_ = 0;
  }

 private:
  void grow(std::size_t more);
  // n bytes (sizeof(Word) <= n <= 2 * sizeof(Word)) as a word from each
  // end, overlapping in the middle.
  template <typename Word>
  static void copy_ends(char* to, const char* from, std::size_t n) noexcept {
    Word head;
    Word tail;
    std::memcpy(&head, from, sizeof head);
    std::memcpy(&tail, from + n - sizeof tail, sizeof tail);
    std::memcpy(to, &head, sizeof head);
    std::memcpy(to + n - sizeof tail, &tail, sizeof tail);
  }

  std::vector<char> bytes_;
  std::size_t size_ = 0;
};

class column_builder {
 public:
  void add(std::string_view name, value_kind kind, std::string_view text, std::int64_t micros = 0) {
    add(name, name_hash(name), kind, text, micros);
  }
  // The same, with the name's name_hash() at hand.
  void add(std::string_view name, std::uint64_t hash, value_kind kind, std::string_view text, std::int64_t micros = 0);
  static std::uint64_t name_hash(std::string_view name) noexcept {
    text::word_hash h;
    h.add(name);
    return h.h;
  }
  std::size_t size() const noexcept { return columns_.size(); }
  // The columns added since the last finish(), as a sealed list (an empty
  // one when none were); the builder is empty again.
  column_list finish();
  // Forgets the columns added since the last finish().
  void clear() noexcept;

 private:
  // The layout in the making (a column_layout once finish() has not found
  // it among this thread's).
  struct added {
    std::uint32_t name_end;  // where its name ends in names_
    std::uint32_t end;       // where its text ends in texts_
    value_kind kind;
  };
  byte_buffer names_;                            // one after the other
  std::vector<added> columns_;                   // one entry per column: one vector to grow, not three
  text::word_hash hash_;                         // of the names and kinds so far
  std::size_t budget_ = column_list::kMaxBytes;  // bytes the row may still take (add())
  byte_buffer texts_;                            // one after the other (a timestamp's instant after its text)
};

// Where a row goes: its table, and the service that routes its error-log
// entry. Immutable once made, shared by the rows of one table (the
// transform makes one per table it names, not one per row).
struct row_target {
  table_ref table;
  std::string service;  // lower-cased fiware-service
};

struct row {
  flow f = flow::historic;
  operation op = operation::insert;
  // Columns in this order: entityid, entitytype, fiwareservicepath, recvtime,
  // then one per attribute in notification order (timeinstant among them when
  // present). A remove row carries entityid only.
  column_list columns;
  // The TimeInstant as an instant, when the entity had a non-null one.
  std::optional<std::int64_t> timeinstant_us;

  // The row's table (schema and table empty until set).
  const table_ref& table() const noexcept { return target_ ? target_->table : no_target().table; }
  // The lower-cased fiware-service: routes this row's error-log entry.
  const std::string& service() const noexcept { return target_ ? target_->service : no_target().service; }
  const std::shared_ptr<const row_target>& target() const noexcept { return target_; }
  // Shares a target (what the transform does: one per table named).
  void set_target(std::shared_ptr<const row_target> t) noexcept { target_ = std::move(t); }
  // A target of the row's own, with this table (or service) and the
  // service (or table) it had.
  void set_table(table_ref t) { target_ = std::make_shared<const row_target>(row_target{std::move(t), service()}); }
  void set_service(std::string s) { target_ = std::make_shared<const row_target>(row_target{table(), std::move(s)}); }

  // The entity id (after the name mappings): the text of the first column,
  // entityid, which every row has ("" for one without it). Not a member of
  // its own: the row holds it once.
  std::string_view entity_id() const noexcept;
  // The column named `name`, if any.
  std::optional<column_view> find(std::string_view name) const;
  // Memory the row takes (its heap included), for batching limits: its
  // target counts only while no other row holds it.
  std::size_t byte_size() const;

 private:
  static const row_target& no_target() noexcept;
  std::shared_ptr<const row_target> target_;
};

// Names of the base columns Kafnus fills itself.
inline constexpr const char* kEntityId = "entityid";
inline constexpr const char* kEntityType = "entitytype";
inline constexpr const char* kServicePath = "fiwareservicepath";
inline constexpr const char* kRecvTime = "recvtime";
inline constexpr const char* kTimeInstant = "timeinstant";

inline std::string_view row::entity_id() const noexcept {
  if (columns.empty()) return {};
  const auto first = columns[0];
  return first.name == kEntityId ? first.val.text : std::string_view();
}

}  // namespace kafnus::ngsi
