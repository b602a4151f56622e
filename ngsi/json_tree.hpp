#pragma once
// A parsed JSON document as a flat, read-only tree: what the rest of ngsi/
// reads notifications through.
//
// Why a tree and not a streaming API (simdjson's On Demand): an attribute is
// typed by its "type" member, which may come after its "value"; names must be
// checked for duplicates across an entity; and every byte of the input must
// be validated (On Demand skips what it is not asked for). One pass of our
// own reader builds this tree, validating everything (simdjson checks the
// UTF-8 first); the rest is random access over it. Numbers keep their exact
// JSON text (no detour through double), strings without escapes are views of
// the input and the others are decoded once, and the nodes live in one
// reused block per thread. The reader took 1.5 µs per bench notification
// where the On Demand walk took 3.1 (kafnus-transform-bench); it is held to
// simdjson's DOM parser by test/unit/ngsi/json_tree_test.cpp.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ngsi/result.hpp"

namespace kafnus::ngsi {

// Whether `s` is exactly one number of RFC 8259's grammar (no sign but '-',
// no leading zeros, no NaN or infinities, nothing around it).
bool is_json_number(std::string_view s) noexcept;

enum class json_type : unsigned char { null, boolean, number, string, array, object };

// "null", "a boolean", "a number", "a string", "an array", "an object": for
// messages that say what was found.
const char* describe(json_type t) noexcept;

struct json_node {
  json_type type = json_type::null;
  bool boolean = false;      // the value of a boolean
  bool has_nul = false;      // a string or key in this subtree holds U+0000
  bool key_has_nul = false;  // this object member's key holds U+0000
  std::uint32_t next = 0;    // index one past this node's subtree: its next sibling
  std::uint32_t count = 0;   // members of an object, elements of an array
  std::uint32_t begin = 0;   // source bytes of the value: [begin, end)
  std::uint32_t end = 0;
  std::string_view key;   // member name when the parent is an object (decoded)
  std::string_view text;  // number: its JSON literal; string: the decoded UTF-8
};

class json_tree {
 public:
  static constexpr std::uint32_t npos = 0xFFFFFFFFu;

  std::uint32_t root() const noexcept { return 0; }
  const json_node& at(std::uint32_t i) const noexcept { return nodes_.get()[i]; }
  // Children of `i` are the nodes first_child(i), then .next of each, while < at(i).next.
  static std::uint32_t first_child(std::uint32_t i) noexcept { return i + 1; }
  // The first member named `key` of object `obj`, or npos. Inline: called
  // with a literal ("type", "value"), the comparison is of a known length.
  std::uint32_t member(std::uint32_t obj, std::string_view key) const noexcept {
    const json_node* const nodes = nodes_.get();
    const json_node& o = nodes[obj];
    if (o.type != json_type::object) return npos;
    for (std::uint32_t c = first_child(obj); c < o.next; c = nodes[c].next) {
      if (named(nodes[c].key, key)) return c;
    }
    return npos;
  }
  // The first members named `a` and `b` of object `obj` (npos for a name it
  // lacks), in one pass that stops once both are found: an entity's "id"
  // and "type". (For an attribute's "type" and "value", two member() calls
  // counted fewer instructions: bench/README.md.)
  void member_pair(std::uint32_t obj, std::string_view a, std::string_view b, std::uint32_t& at_a,
                   std::uint32_t& at_b) const noexcept {
    at_a = at_b = npos;
    const json_node* const nodes = nodes_.get();
    const json_node& o = nodes[obj];
    if (o.type != json_type::object) return;
    for (std::uint32_t c = first_child(obj); c < o.next; c = nodes[c].next) {
      const std::string_view k = nodes[c].key;
      if (at_a == npos && named(k, a)) {
        at_a = c;
        if (at_b != npos) return;
      } else if (at_b == npos && named(k, b)) {
        at_b = c;
        if (at_a != npos) return;
      }
    }
  }
  // The value's JSON text exactly as sent (inner whitespace included).
  std::string_view raw(std::uint32_t i) const noexcept {
    const json_node& n = nodes_.get()[i];
    return source_.substr(n.begin, n.end - n.begin);
  }
  // The value as compact JSON text (whitespace outside strings removed).
  std::string compact(std::uint32_t i) const;

 private:
  // Whether member name `k` is `key` (inline: with a literal key, the
  // comparison is of a known length).
  static bool named(std::string_view k, std::string_view key) noexcept {
    return k.size() == key.size() && (key.empty() || std::memcmp(k.data(), key.data(), key.size()) == 0);
  }
  friend class json_tree_builder;
  friend result<const json_tree*> parse_json_object(std::string_view text, int max_depth);
  struct free_room {
    void operator()(json_node* p) const noexcept { std::free(p); }
  };
  // Makes room for `nodes` nodes (and gives back most of an unusually
  // large room when a far smaller one will do).
  void make_room(std::size_t nodes);
  // Raw memory for capacity_ nodes: the parser constructs each node where
  // it writes it, so the part of a large document's room it does not fill
  // is never touched (nor counted in the daemon's resident memory).
  std::unique_ptr<json_node, free_room> nodes_;
  std::size_t capacity_ = 0;
  std::string_view source_;
};

// Parses `text` (one JSON document whose top level is an object) into this
// thread's tree. The tree, and every string_view in it, stays valid until the
// next call on the same thread. Objects and arrays nested deeper than
// `max_depth` (the top-level object is depth 1) are an error, as is anything
// that is not exactly one valid UTF-8 JSON document; the error says what was
// wrong and where, without quoting the input.
result<const json_tree*> parse_json_object(std::string_view text, int max_depth);

}  // namespace kafnus::ngsi
