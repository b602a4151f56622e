#include "ngsi/json_tree.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text/ascii.hpp"
#include "text/utf8.hpp"

namespace kafnus::ngsi {

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

std::string json_tree::compact(std::uint32_t i) const {
  const std::string_view r = raw(i);
  const json_type t = at(i).type;
  if (t != json_type::object && t != json_type::array) return std::string(r);
  std::string out(r.size(), '\0');
  std::size_t n = 0;
  if (simdjson::minify(r.data(), r.size(), out.data(), n) != simdjson::SUCCESS) return std::string(r);
  out.resize(n);
  return out;
}

void json_tree::make_room(std::size_t nodes) {
  constexpr std::size_t kLeast = 1024;                 // nodes: a notification's and then some
  constexpr std::size_t kKeep = std::size_t{1} << 16;  // kept after a large document as long as it is needed
  std::size_t want = 0;
  if (capacity_ < nodes) {
    want = std::max({nodes, capacity_ * 2, kLeast});
  } else if (capacity_ > kKeep && nodes < capacity_ / 4) {
    want = std::max(nodes, kLeast);
  } else {
    return;
  }
  auto* room = static_cast<json_node*>(std::malloc(want * sizeof(json_node)));  // NOLINT(*-no-malloc): raw room
  if (room == nullptr) throw std::bad_alloc();
  nodes_.reset(room);
  capacity_ = want;
}

namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

namespace {

// Where the RFC 8259 number that starts at p ends, or nullptr when what
// starts there is not one (a sign without digits, "1.", "1e"). The text
// must be followed by a byte that is not a digit (the parser's NUL after
// its input, a string's terminating NUL): no bounds check. Where it ends
// is the caller's to check.
inline const char* scan_number(const char* p) noexcept {
  if (*p == '-') ++p;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    do ++p;
    while (is_digit(*p));
  } else {
    return nullptr;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) return nullptr;
    do ++p;
    while (is_digit(*p));
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    if (!is_digit(*p)) return nullptr;
    do ++p;
    while (is_digit(*p));
  }
  return p;
}

// A byte that may continue a number: after a number's end, it makes the
// literal malformed ("1-2", "01", "1.2.3").
constexpr bool is_number_byte(char c) noexcept {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

}  // namespace

// RFC 8259 number grammar. A number is kept as its text (converting it
// would lose digits), so the literal is checked here.
bool is_json_number(std::string_view s) noexcept {
  // Scanned in a copy, which ends in a NUL (s may hold one, which ends the
  // scan early and so is refused). The operator's replay asks, not the
  // stream.
  std::string copy;
  try {
    copy.assign(s);
  } catch (...) {
    return false;
  }
  const char* const text = copy.c_str();
  const char* end = scan_number(text);
  return end != nullptr && end == text + s.size();
}

namespace {

constexpr const char* kTruncated = "is not valid JSON: it ends before every object and array is closed (truncated?)";

// An object or array whose children are being read.
struct open_container {
  std::uint32_t idx = 0;
  std::uint32_t count = 0;
  bool is_object = false;
  char closing = ']';  // the bracket that closes it
};

// Everything one thread reuses from one record to the next, so that parsing
// a notification allocates nothing in the steady state.
struct thread_state {
  std::vector<char> buffer;           // the input, then a NUL that ends every scan
  std::vector<char> strings;          // the decoded text of strings that hold escapes
  std::vector<open_container> stack;  // as deep as the limit, or the text, allows
  json_tree tree;
};

thread_state& state() {
  thread_local thread_state s;
  return s;
}

// Memory a thread keeps after an unusually large record is given back once
// ordinary records follow.
constexpr std::size_t kKeepBytes = std::size_t{4} << 20;

// Bytes of padding after the input: a NUL that ends every scan, and room
// for the 16-byte loads of plain_end() that start at or before it.
constexpr std::size_t kPadding = 32;

// The first byte at or after `q` that ends a string's plain run: its closing
// quote, a backslash, or a control character (the NUL after the input is
// one). Sixteen bytes at a time where SSE2 is (every x86-64): a string's end
// is found without a branch per byte, whose exit the CPU mispredicts at
// every string of a new length.
inline const char* plain_end(const char* q) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control = _mm_set1_epi8(0x1F);
  for (;;) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    // max(v, 0x1F) == 0x1F exactly for the bytes 0x00–0x1F (unsigned).
    const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                      _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (mask != 0) return q + __builtin_ctz(mask);
    q += 16;
  }
#else
  while (*q != '"' && *q != '\\' && static_cast<unsigned char>(*q) >= 0x20) ++q;
  return q;
#endif
}

// The four hex digits at p as a number, or -1.
long hex4(const char* p) noexcept {
  long v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = text::hex_digit_value(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

// Reads the document in one pass and writes one node per value, in
// document order, validating everything (RFC 8259: structure, literals,
// numbers, escapes, no raw control character in a string; UTF-8 is checked
// before, for the whole input). It keeps its own stack of open objects and
// arrays instead of recursing, so no nesting limit, however high it is
// configured, can exhaust the thread's stack. Strings without escapes (most
// keys and values) are views of the input; the others are decoded into the
// thread's string buffer, sized beforehand so that no view moves.
//
// The nodes and the stack have room for the most a text of this size can
// hold (see parse_json_object), so the loop checks no capacity; it reads
// through a cursor, the next node's index and the innermost frame, all
// locals that stay in registers (as members, every store into a node made
// the compiler read them again from memory).
class json_tree_builder {
 public:
  json_tree_builder(json_node* nodes, open_container* stack, const char* base, std::size_t size, char* strings,
                    int max_depth)
      : nodes_(nodes), stack_(stack), s_(base), n_(size), out_(strings), max_depth_(max_depth) {}

  const std::string& error() const noexcept { return error_; }

  bool root() {
    const char* p = skip_ws(s_);
    i_ = static_cast<std::size_t>(p - s_);
    if (i_ == n_) return whole("is empty");
    const char c = *p;
    if (c != '{') {
      const char* found = c == '['                             ? "an array"
                          : c == '"'                           ? "a string"
                          : c == '-' || (c >= '0' && c <= '9') ? "a number"
                          : c == 't' || c == 'f'               ? "a boolean"
                          : c == 'n'                           ? "null"
                                                               : nullptr;
      if (found == nullptr) return fail("is not valid JSON: unexpected character");
      error_ = std::string("is ") + found + " at the top level, not an object";
      return false;
    }
    if (max_depth_ < 1) return too_deep();
    p = walk(p);
    if (p == nullptr) return false;
    p = skip_ws(p);
    i_ = static_cast<std::size_t>(p - s_);
    if (i_ != n_) {
      error_ = "is not valid JSON: unexpected content after the top-level object at byte " + std::to_string(i_);
      return false;
    }
    return true;
  }

 private:
  static constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static const char* skip_ws(const char* p) noexcept {
    // Most documents are compact: one comparison rules out every byte of
    // JSON text that is not whitespace.
    if (static_cast<unsigned char>(*p) > ' ') return p;
    while (is_ws(*p)) ++p;  // the NUL after the input stops it
    return p;
  }

  // The errors, out of line and marked cold: the scanning code then builds
  // no message text of its own, and needs fewer registers and less stack,
  // saved and restored at every value, than with it inlined. Each reports
  // at i_, which the caller sets first.
  [[gnu::cold, gnu::noinline]] bool whole(const char* message) {
    error_ = message;
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool fail(const char* message) { return fail_at(message, i_); }
  [[gnu::cold, gnu::noinline]] bool fail_at(const char* message, std::size_t at) {
    error_ = std::string(message) + " near byte " + std::to_string(at);
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool expected_separator(char closing) {
    if (i_ == n_) return whole(kTruncated);
    return fail_at((std::string("is not valid JSON: expected ',' or '") + closing + "'").c_str(), i_);
  }
  [[gnu::cold, gnu::noinline]] bool malformed_number() {
    error_ = "is not valid JSON: malformed number at byte " + std::to_string(i_);
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool too_deep() {
    error_ = "nests objects and arrays deeper than limits.max_nesting_depth (" + std::to_string(max_depth_) +
             ") at byte " + std::to_string(i_);
    return false;
  }
  // Where a byte was expected: the end of the input (the NUL after it) is a
  // truncated document, anything else `message`. The scans need no bounds
  // check before this: the NUL matches nothing they look for.
  [[gnu::cold, gnu::noinline]] bool unexpected(const char* message) {
    return i_ == n_ ? whole(kTruncated) : fail(message);
  }
  // The error at `p`, as one of the functions above reports it (nullptr,
  // for the scanning code to return).
  template <typename Report, typename... Args>
  const char* error_at(const char* p, Report report, Args... args) {
    i_ = static_cast<std::size_t>(p - s_);
    (this->*report)(args...);
    return nullptr;
  }

  // Reads the top-level object whose '{' is at p; returns where it ends, or
  // nullptr (error_ says why).
  //
  // A state machine: what may come next is known from where the reader is
  // (a member name or '}' right after '{', ',' or '}' after a member's
  // value, …), so each byte is compared with what may be there and nothing
  // else. A scalar's node is written once, whole, when it is read; an
  // object's or array's when it opens, completed when it closes.
  const char* walk(const char* p) {
    json_node* const nodes = nodes_;
    open_container* const stack = stack_;
    const char* const s = s_;
    const auto at = [s](const char* q) { return static_cast<std::uint32_t>(q - s); };
    std::uint32_t size = 0;       // nodes written
    open_container* top = stack;  // the innermost open object or array
    const int max_depth = max_depth_;
    int depth = 1;         // of top (a counter: a difference of frame pointers divides by their size)
    std::string_view key;  // the member name of the value about to be read (none in an array)
    bool key_nul = false;
    const auto open = [&](json_type type, const char* begin) {
      ::new (nodes + size) json_node{type, false, key_nul, key_nul, 0, 0, at(begin), 0, key, {}};
      const bool object = type == json_type::object;
      *top = open_container{size, 0, object, object ? '}' : ']'};
      ++size;
    };
    const auto scalar = [&](json_type type, bool boolean, bool nul, const char* begin, const char* end,
                            std::string_view text) {
      ::new (nodes + size)
          json_node{type, boolean, key_nul || nul, key_nul, size + 1, 0, at(begin), at(end), key, text};
      ++size;
      ++top->count;
      if (key_nul || nul) nodes[top->idx].has_nul = true;
    };
    open(json_type::object, p);
    ++p;

  object_first:  // right after '{'
    p = skip_ws(p);
    if (*p == '}') goto close;
  member:  // a member's name, at p
    if (*p != '"') {
      return error_at(p, &json_tree_builder::unexpected, "is not valid JSON: expected a member name in double quotes");
    }
    key_nul = false;
    p = string(p, key, key_nul);
    if (p == nullptr) return nullptr;
    if (*p != ':') {  // most documents are compact: the colon comes right after the name
      p = skip_ws(p);
      if (*p != ':') {
        return error_at(p, &json_tree_builder::unexpected, "is not valid JSON: expected ':' after a member name");
      }
    }
    p = skip_ws(p + 1);
    goto value;

  array_first:  // right after '['
    p = skip_ws(p);
    if (*p == ']') goto close;
    key = {};
    key_nul = false;
    // Fall through to the value.

  value : {  // one value at p: a scalar completes at once, an object or array becomes the innermost frame
    const char c = *p;
    switch (c) {
      case '{':
      case '[':
        if (depth == max_depth) return error_at(p, &json_tree_builder::too_deep);
        ++top;
        ++depth;
        if (c == '{') {
          open(json_type::object, p++);
          goto object_first;
        }
        open(json_type::array, p++);
        goto array_first;
      case '"': {
        std::string_view text;
        bool nul = false;
        const char* const begin = p;
        p = string(p, text, nul);
        if (p == nullptr) return nullptr;
        scalar(json_type::string, false, nul, begin, p, text);
        goto next;
      }
      case 't':
      case 'f':
      case 'n': {
        const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
        const bool is_word = std::memcmp(p, word.data(), word.size()) == 0;  // the NULs after the input differ
        const char a = p[word.size()];
        const bool alnum_after = (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') || (a >= '0' && a <= '9') || a == '_';
        if (!is_word || alnum_after) {
          return error_at(p, &json_tree_builder::fail, "is not valid JSON: a literal other than true, false or null");
        }
        scalar(c == 'n' ? json_type::null : json_type::boolean, c == 't', false, p, p + word.size(), {});
        p += word.size();
        goto next;
      }
      default: {
        if (c != '-' && (c < '0' || c > '9')) {
          return error_at(p, &json_tree_builder::unexpected, "is not valid JSON: unexpected character");
        }
        // One pass: the number's grammar, then a byte that could not
        // follow it (the NUL after the input ends the scan).
        const char* const end = scan_number(p);
        if (end == nullptr || is_number_byte(*end)) return error_at(p, &json_tree_builder::malformed_number);
        scalar(json_type::number, false, false, p, end, std::string_view(p, static_cast<std::size_t>(end - p)));
        p = end;
        goto next;
      }
    }
  }

  close : {  // the closing bracket of the innermost container is at p
    json_node& n = nodes[top->idx];
    n.count = top->count;
    n.next = size;
    ++p;
    n.end = at(p);
    if (top == stack) return p;
    const bool nul = n.has_nul;
    --top;
    --depth;
    ++top->count;
    if (nul) nodes[top->idx].has_nul = true;
  }

  next:  // after a value: ',' and the next one, or the container's end
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      if (top->is_object) goto member;
      key = {};
      key_nul = false;
      goto value;
    }
    if (*p == top->closing) goto close;
    return error_at(p, &json_tree_builder::expected_separator, top->closing);
  }

  // The string whose opening quote is at p: returns where it ends (past its
  // closing quote), or nullptr. Its text is a view of the input when it
  // holds no escape. Inline: most strings have no escape, and end at their
  // plain run.
  [[gnu::always_inline]] const char* string(const char* p, std::string_view& text, bool& nul) {
    const char* q = plain_end(p + 1);
    if (*q == '"') {
      text = std::string_view(p + 1, static_cast<std::size_t>(q - p - 1));
      return q + 1;
    }
    const char* end = escaped_string(p, q);
    text = decoded_;
    nul = decoded_nul_;
    return end;
  }

  // The rest of a string (opening quote at `open`) whose plain run ends at
  // q, at an escape (or a control character, refused below): the plain
  // bytes are copied to the string buffer, the rest decoded there, into
  // decoded_ and decoded_nul_. Returns where the string ends, or nullptr.
  [[gnu::noinline]] const char* escaped_string(const char* open, const char* q) {
    const std::size_t open_quote = static_cast<std::size_t>(open - s_);
    const auto failed = [this, open_quote](const char* message) {
      fail_at(message, open_quote);
      return nullptr;
    };
    char* const start = out_;
    decoded_nul_ = false;
    std::memcpy(out_, open + 1, static_cast<std::size_t>(q - open - 1));
    out_ += q - open - 1;
    for (;;) {
      const char c = *q;
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) {
        if (static_cast<std::size_t>(q - s_) >= n_) {
          whole("is not valid JSON: a string is not closed");
          return nullptr;
        }
        return failed("is not valid JSON: a string holds an unescaped control character");
      }
      if (c != '\\') {
        *out_++ = c;
        ++q;
        continue;
      }
      const char e = q[1];
      q += 2;
      switch (e) {
        case '"': *out_++ = '"'; break;
        case '\\': *out_++ = '\\'; break;
        case '/': *out_++ = '/'; break;
        case 'b': *out_++ = '\b'; break;
        case 'f': *out_++ = '\f'; break;
        case 'n': *out_++ = '\n'; break;
        case 'r': *out_++ = '\r'; break;
        case 't': *out_++ = '\t'; break;
        case 'u': {
          long cp = hex4(q);
          if (cp < 0) return failed("is not valid JSON: a \\u escape without four hex digits");
          q += 4;
          if (cp >= 0xD800 && cp < 0xDC00) {
            // A high surrogate: a low one must follow.
            const long low = q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;
            if (low < 0xDC00 || low > 0xDFFF) {
              return failed("is not valid JSON: a \\u escape holds half of a surrogate pair");
            }
            q += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return failed("is not valid JSON: a \\u escape holds half of a surrogate pair");
          }
          if (cp == 0) decoded_nul_ = true;
          out_ += text::encode_utf8(static_cast<char32_t>(cp), out_);
          break;
        }
        default:
          if (static_cast<std::size_t>(q - 2 - s_) + 1 >= n_) {
            whole("is not valid JSON: a string is not closed");
            return nullptr;
          }
          return failed("is not valid JSON: a string holds an unknown escape");
      }
    }
    decoded_ = std::string_view(start, static_cast<std::size_t>(out_ - start));
    return q + 1;
  }

  json_node* const nodes_;
  open_container* const stack_;
  const char* const s_;  // the input, followed by NULs
  const std::size_t n_;
  std::size_t i_ = 0;  // where an error is: set before reporting one
  char* out_;          // where the next decoded string goes
  const int max_depth_;
  std::string error_;
  std::string_view decoded_;  // the string escaped_string decoded last
  bool decoded_nul_ = false;  // and whether it holds U+0000
};

result<const json_tree*> parse_json_object(std::string_view text, int max_depth) {
  thread_state& st = state();
  if (text.size() > 0xFFFF0000u) return make_error("is too large to parse");
  if (!simdjson::validate_utf8(text.data(), text.size())) return make_error("is not valid UTF-8");
  // The legacy envelope's inner notification is a string of the document
  // parsed before: a view of this thread's input buffer (a string without
  // escapes) or of its string buffer (one with), both of which the parse
  // below reuses. Such a text is copied out first.
  std::string held;
  auto inside = [&text](const std::vector<char>& v) {
    const std::less<const char*> before;
    return !text.empty() && !v.empty() && !before(text.data(), v.data()) && before(text.data(), v.data() + v.size());
  };
  if (inside(st.buffer) || inside(st.strings)) {
    held.assign(text);
    text = held;
  }
  const bool ordinary = text.size() < kKeepBytes / 4;
  if (ordinary && st.buffer.capacity() > kKeepBytes) std::vector<char>().swap(st.buffer);
  if (ordinary && st.strings.capacity() > kKeepBytes) std::vector<char>().swap(st.strings);
  // The NUL after the input ends every scan (a NUL inside a string is an
  // error, so the scans need no bounds check).
  st.buffer.resize(text.size() + kPadding);
  if (!text.empty()) std::memcpy(st.buffer.data(), text.data(), text.size());
  std::memset(st.buffer.data() + text.size(), 0, kPadding);
  // A decoded string is never longer than its JSON text.
  if (st.strings.size() < text.size() + 8) st.strings.resize(text.size() + 8);
  // Room for every node and open container the text can hold, valid or
  // not: each value starts at a byte of its own. (A valid document holds
  // at most half as many, but an unclosed "[1,[1,[1," fills more than half
  // before it is refused.) Raw room: what is not filled is not touched.
  const std::size_t room = text.size() + 1;
  st.tree.make_room(room);
  const std::size_t depth = std::min(room, static_cast<std::size_t>(std::max(max_depth, 1))) + 1;
  if (st.stack.size() < depth) st.stack.resize(depth);
  st.tree.source_ = std::string_view(st.buffer.data(), text.size());

  json_tree_builder builder(st.tree.nodes_.get(), st.stack.data(), st.buffer.data(), text.size(), st.strings.data(),
                            max_depth);
  if (!builder.root()) return make_error(builder.error());
  return static_cast<const json_tree*>(&st.tree);
}

}  // namespace kafnus::ngsi
