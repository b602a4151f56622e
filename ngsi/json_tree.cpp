#include "ngsi/json_tree.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <simdjson.h>

namespace kafnus::ngsi {

namespace od = simdjson::ondemand;

const char* describe(json_type t) noexcept {
  switch (t) {
    case json_type::null: return "null";
    case json_type::boolean: return "a boolean";
    case json_type::number: return "a number";
    case json_type::string: return "a string";
    case json_type::array: return "an array";
    case json_type::object: return "an object";
  }
  return "null";
}

std::uint32_t json_tree::member(std::uint32_t obj, std::string_view key) const noexcept {
  const json_node& o = nodes_[obj];
  if (o.type != json_type::object) return npos;
  for (std::uint32_t c = first_child(obj); c < o.next; c = nodes_[c].next) {
    if (nodes_[c].key == key) return c;
  }
  return npos;
}

std::string json_tree::compact(std::uint32_t i) const {
  const std::string_view r = raw(i);
  const json_type t = nodes_[i].type;
  if (t != json_type::object && t != json_type::array) return std::string(r);
  std::string out(r.size(), '\0');
  std::size_t n = 0;
  if (simdjson::minify(r.data(), r.size(), out.data(), n) != simdjson::SUCCESS) return std::string(r);
  out.resize(n);
  return out;
}

namespace {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

// RFC 8259 number grammar. On Demand does not validate a number it is not
// asked to convert, and converting would lose digits, so the literal is
// checked here and kept as text.
bool is_json_number(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i == n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i == n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i == n;
}

namespace {

// Whether an error is about the document as a whole, so that a byte
// position would mislead.
bool whole_document(simdjson::error_code e) noexcept {
  return e == simdjson::UTF8_ERROR || e == simdjson::EMPTY || e == simdjson::UNCLOSED_STRING ||
         e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || e == simdjson::CAPACITY || e == simdjson::MEMALLOC;
}

std::string describe_error(simdjson::error_code e) {
  switch (e) {
    case simdjson::UTF8_ERROR: return "is not valid UTF-8";
    case simdjson::EMPTY: return "is empty";
    case simdjson::UNCLOSED_STRING: return "is not valid JSON: a string is not closed";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "is not valid JSON: it ends before every object and array is closed (truncated?)";
    case simdjson::UNESCAPED_CHARS: return "is not valid JSON: a string holds an unescaped control character";
    case simdjson::INCORRECT_TYPE:
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: return "is not valid JSON: a literal other than true, false or null";
    case simdjson::CAPACITY:
    case simdjson::MEMALLOC: return "is too large to parse";
    default: return std::string("is not valid JSON (") + simdjson::error_message(e) + ")";
  }
}

// An object or array whose children are being read.
struct open_container {
  std::uint32_t idx = 0;
  std::uint32_t count = 0;
  std::uint32_t last_end = 0;  // end of the last child read, or just past the opening bracket
  bool is_object = false;
  od::object_iterator field_at{}, fields_end{};
  od::array_iterator element_at{}, elements_end{};
};

// Everything one thread reuses from one record to the next, so that parsing
// a notification allocates nothing in the steady state.
struct thread_state {
  od::parser parser;
  std::vector<char> buffer;  // the input plus simdjson's padding
  std::vector<open_container> stack;
  json_tree tree;
};

thread_state& state() {
  thread_local thread_state s;
  return s;
}

// Memory a thread keeps after an unusually large record is given back once
// ordinary records follow.
constexpr std::size_t kKeepBytes = std::size_t{4} << 20;
constexpr std::size_t kKeepNodes = std::size_t{1} << 16;

}  // namespace

// Walks the document with On Demand and appends one node per value, in
// document order. The walk keeps its own stack of open objects and arrays
// instead of recursing, so no nesting limit, however high it is configured,
// can exhaust the thread's stack.
class json_tree_builder {
 public:
  json_tree_builder(std::vector<json_node>& nodes, std::vector<open_container>& stack, const char* base,
                    std::size_t size, int max_depth)
      : nodes_(nodes), stack_(stack), base_(base), size_(size), max_depth_(max_depth) {
    stack_.clear();
  }

  const std::string& error() const noexcept { return error_; }

  bool root(od::document& doc) {
    od::json_type t{};
    const std::uint32_t begin = first_token();
    if (auto e = doc.type().get(t)) return fail(e, begin);
    if (t != od::json_type::object) {
      const char* found = t == od::json_type::array     ? "an array"
                          : t == od::json_type::string  ? "a string"
                          : t == od::json_type::number  ? "a number"
                          : t == od::json_type::boolean ? "a boolean"
                                                        : "null";
      error_ = std::string("is ") + found + " at the top level, not an object";
      return false;
    }
    if (max_depth_ < 1) return too_deep(begin);
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return fail(e, begin);
    const std::uint32_t idx = push({}, false, begin, json_type::object);
    if (!open_object(obj, idx)) return false;
    if (!walk()) return false;
    // Exactly one document: anything after the top-level object is an error.
    const char* loc = nullptr;
    const auto e = doc.current_location().get(loc);
    if (e == simdjson::OUT_OF_BOUNDS) return true;
    if (e) return fail(e, nodes_[idx].end);
    error_ = "is not valid JSON: unexpected content after the top-level object at byte " + std::to_string(loc - base_);
    return false;
  }

 private:
  std::uint32_t offset(const char* p) const noexcept { return static_cast<std::uint32_t>(p - base_); }

  std::uint32_t first_token() const noexcept {
    std::size_t p = 0;
    while (p < size_ && is_ws(base_[p])) ++p;
    return static_cast<std::uint32_t>(p);
  }

  std::uint32_t push(std::string_view key, bool key_nul, std::uint32_t begin, json_type type) {
    nodes_.emplace_back();
    json_node& n = nodes_.back();
    n.type = type;
    n.key = key;
    n.key_has_nul = key_nul;
    n.has_nul = key_nul;
    n.begin = begin;
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  bool fail(simdjson::error_code e, std::uint32_t near) {
    error_ = describe_error(e);
    if (!whole_document(e)) error_ += " near byte " + std::to_string(near);
    return false;
  }

  bool too_deep(std::uint32_t at) {
    error_ = "nests objects and arrays deeper than limits.max_nesting_depth (" + std::to_string(max_depth_) +
             ") at byte " + std::to_string(at);
    return false;
  }

  bool open_object(od::object& obj, std::uint32_t idx) {
    open_container f;
    f.idx = idx;
    f.last_end = nodes_[idx].begin + 1;
    f.is_object = true;
    if (auto e = obj.begin().get(f.field_at)) return fail(e, f.last_end);
    if (auto e = obj.end().get(f.fields_end)) return fail(e, f.last_end);
    stack_.push_back(f);
    return true;
  }

  bool open_array(od::array& arr, std::uint32_t idx) {
    open_container f;
    f.idx = idx;
    f.last_end = nodes_[idx].begin + 1;
    f.is_object = false;
    if (auto e = arr.begin().get(f.element_at)) return fail(e, f.last_end);
    if (auto e = arr.end().get(f.elements_end)) return fail(e, f.last_end);
    stack_.push_back(f);
    return true;
  }

  // The closing bracket after the last child (or after the opening one of an
  // empty container) ends the container's source span.
  bool close(const open_container& f) {
    std::size_t p = f.last_end;
    while (p < size_ && is_ws(base_[p])) ++p;
    const char bracket = f.is_object ? '}' : ']';
    if (p >= size_ || base_[p] != bracket) {
      error_ = std::string("is not valid JSON: expected '") + bracket + "' at byte " + std::to_string(p);
      return false;
    }
    json_node& n = nodes_[f.idx];
    n.end = static_cast<std::uint32_t>(p + 1);
    n.count = f.count;
    n.next = static_cast<std::uint32_t>(nodes_.size());
    return true;
  }

  // A child (scalar, or a container now closed) is complete: account for it
  // in its parent and move the parent past it.
  void finished_child(std::uint32_t child) {
    open_container& parent = stack_.back();
    ++parent.count;
    parent.last_end = nodes_[child].end;
    if (nodes_[child].has_nul) nodes_[parent.idx].has_nul = true;
    if (parent.is_object) {
      ++parent.field_at;
    } else {
      ++parent.element_at;
    }
  }

  bool walk() {
    while (!stack_.empty()) {
      open_container& f = stack_.back();
      const bool more = f.is_object ? f.field_at != f.fields_end : f.element_at != f.elements_end;
      if (!more) {
        if (!close(f)) return false;
        const std::uint32_t done = f.idx;
        stack_.pop_back();
        if (!stack_.empty()) finished_child(done);
        continue;
      }
      std::string_view key;
      bool key_nul = false;
      od::value v;
      if (f.is_object) {
        od::field field;
        if (auto e = (*f.field_at).get(field)) return fail(e, f.last_end);
        if (auto e = field.unescaped_key().get(key)) return fail(e, f.last_end);
        key_nul = key.find('\0') != std::string_view::npos;
        v = field.value();
      } else {
        if (auto e = (*f.element_at).get(v)) return fail(e, f.last_end);
      }
      // `f` may dangle once a frame is pushed: only indices from here on.
      if (!value(v, key, key_nul)) return false;
    }
    return true;
  }

  // Reads one child of the innermost open container: a scalar completes at
  // once, an object or array becomes the new innermost frame.
  bool value(od::value& v, std::string_view key, bool key_nul) {
    const std::string_view token = v.raw_json_token();
    const std::uint32_t begin = offset(token.data());
    od::json_type t{};
    if (auto e = v.type().get(t)) return fail(e, begin);
    const auto depth = static_cast<int>(stack_.size()) + 1;
    switch (t) {
      case od::json_type::object: {
        if (depth > max_depth_) return too_deep(begin);
        od::object obj;
        if (auto e = v.get_object().get(obj)) return fail(e, begin);
        return open_object(obj, push(key, key_nul, begin, json_type::object));
      }
      case od::json_type::array: {
        if (depth > max_depth_) return too_deep(begin);
        od::array arr;
        if (auto e = v.get_array().get(arr)) return fail(e, begin);
        return open_array(arr, push(key, key_nul, begin, json_type::array));
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail(e, begin);
        const std::uint32_t idx = push(key, key_nul, begin, json_type::string);
        json_node& n = nodes_[idx];
        n.text = s;
        if (s.find('\0') != std::string_view::npos) n.has_nul = true;
        n.end = begin + static_cast<std::uint32_t>(trim_right(token).size());
        return scalar_done(idx);
      }
      case od::json_type::number: {
        const std::string_view literal = trim_right(token);
        if (!is_json_number(literal)) {
          error_ = "is not valid JSON: malformed number at byte " + std::to_string(begin);
          return false;
        }
        const std::uint32_t idx = push(key, key_nul, begin, json_type::number);
        nodes_[idx].text = literal;
        nodes_[idx].end = begin + static_cast<std::uint32_t>(literal.size());
        return scalar_done(idx);
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto e = v.get_bool().get(b)) return fail(e, begin);
        const std::uint32_t idx = push(key, key_nul, begin, json_type::boolean);
        nodes_[idx].boolean = b;
        nodes_[idx].end = begin + (b ? 4 : 5);
        return scalar_done(idx);
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) return fail(e, begin);
        if (!is_null) return fail(simdjson::INCORRECT_TYPE, begin);
        const std::uint32_t idx = push(key, key_nul, begin, json_type::null);
        nodes_[idx].end = begin + 4;
        return scalar_done(idx);
      }
    }
    return fail(simdjson::TAPE_ERROR, begin);
  }

  bool scalar_done(std::uint32_t idx) {
    nodes_[idx].next = idx + 1;
    finished_child(idx);
    return true;
  }

  std::vector<json_node>& nodes_;
  std::vector<open_container>& stack_;
  const char* base_;
  std::size_t size_;
  int max_depth_;
  std::string error_;
};

result<const json_tree*> parse_json_object(std::string_view text, int max_depth) {
  thread_state& st = state();
  if (text.size() > 0xFFFF0000u) return make_error("is too large to parse");
  const bool ordinary = text.size() < kKeepBytes / 4;
  if (ordinary && st.buffer.capacity() > kKeepBytes) std::vector<char>().swap(st.buffer);
  if (ordinary && st.tree.nodes_.capacity() > kKeepNodes) std::vector<json_node>().swap(st.tree.nodes_);
  // The legacy envelope's inner notification is a string that simdjson
  // decoded into the parser's own buffer, which the next iterate() reuses (and
  // a parser reset frees): copy it out first.
  st.buffer.resize(text.size() + simdjson::SIMDJSON_PADDING);
  if (!text.empty()) std::memcpy(st.buffer.data(), text.data(), text.size());
  std::memset(st.buffer.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  if (ordinary && st.parser.capacity() > kKeepBytes) st.parser = od::parser{};
  // simdjson's development checks (debug builds) track one position per
  // nesting level; the walk below never goes past our own limit (nor past
  // the document's length), so size that table for it.
  const std::size_t depth_needed =
      std::max<std::size_t>(simdjson::DEFAULT_MAX_DEPTH,
                            std::min<std::size_t>(static_cast<std::size_t>(std::max(max_depth, 1)), text.size()) + 8);
  if (!text.empty() && (st.parser.max_depth() < depth_needed || st.parser.capacity() < text.size())) {
    const auto e =
        st.parser.allocate(std::max(st.parser.capacity(), text.size()), std::max(st.parser.max_depth(), depth_needed));
    if (e) return make_error(describe_error(e));
  }
  st.tree.nodes_.clear();
  st.tree.source_ = std::string_view(st.buffer.data(), text.size());

  json_tree_builder builder(st.tree.nodes_, st.stack, st.buffer.data(), text.size(), max_depth);
  od::document doc;
  if (auto e = st.parser.iterate(st.buffer.data(), text.size(), st.buffer.size()).get(doc)) {
    return make_error(describe_error(e));
  }
  if (!builder.root(doc)) {
    st.tree.nodes_.clear();
    return make_error(builder.error());
  }
  return static_cast<const json_tree*>(&st.tree);
}

}  // namespace kafnus::ngsi
