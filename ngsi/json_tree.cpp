#include "ngsi/json_tree.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
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
  const json_type t = nodes_[i].type;
  if (t != json_type::object && t != json_type::array) return std::string(r);
  std::string out(r.size(), '\0');
  std::size_t n = 0;
  if (simdjson::minify(r.data(), r.size(), out.data(), n) != simdjson::SUCCESS) return std::string(r);
  out.resize(n);
  return out;
}

namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

namespace {

// The length of the RFC 8259 number at the start of `s`, or 0 when what
// starts there is not one (a sign without digits, "1.", "1e"). Where it
// ends is the caller's to check.
std::size_t number_length(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return 0;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return 0;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i == n || !is_digit(s[i])) return 0;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i == n || !is_digit(s[i])) return 0;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i;
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
  const std::size_t n = number_length(s);
  return n > 0 && n == s.size();
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
  std::vector<char> buffer;   // the input, then a NUL that ends every scan
  std::vector<char> strings;  // the decoded text of strings that hold escapes
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

// Reads the document in one pass and appends one node per value, in
// document order, validating everything (RFC 8259: structure, literals,
// numbers, escapes, no raw control character in a string; UTF-8 is checked
// before, for the whole input). It keeps its own stack of open objects and
// arrays instead of recursing, so no nesting limit, however high it is
// configured, can exhaust the thread's stack. Strings without escapes (most
// keys and values) are views of the input; the others are decoded into the
// thread's string buffer, sized beforehand so that no view moves.
class json_tree_builder {
 public:
  json_tree_builder(std::vector<json_node>& nodes, std::vector<open_container>& stack, const char* base,
                    std::size_t size, char* strings, int max_depth)
      : nodes_(nodes), stack_(stack), s_(base), n_(size), out_(strings), max_depth_(max_depth) {
    stack_.clear();
  }

  const std::string& error() const noexcept { return error_; }

  bool root() {
    skip_ws();
    if (i_ == n_) return whole("is empty");
    const char c = s_[i_];
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
    open(json_type::object, {}, false);
    if (!walk()) return false;
    skip_ws();
    if (i_ != n_) {
      error_ = "is not valid JSON: unexpected content after the top-level object at byte " + std::to_string(i_);
      return false;
    }
    return true;
  }

 private:
  static constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_ws() noexcept {
    // Most documents are compact: one comparison rules out every byte of
    // JSON text that is not whitespace.
    if (static_cast<unsigned char>(s_[i_]) > ' ') return;
    while (is_ws(s_[i_])) ++i_;  // the NUL after the input stops it
  }

  // The errors, out of line and marked cold: the scanning functions then
  // build no message text of their own, and need fewer registers and less
  // stack, saved and restored at every value, than with it inlined.
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

  std::uint32_t push(std::string_view key, bool key_nul, json_type type) {
    nodes_.emplace_back();
    json_node& n = nodes_.back();
    n.type = type;
    n.key = key;
    n.key_has_nul = key_nul;
    n.has_nul = key_nul;
    n.begin = static_cast<std::uint32_t>(i_);
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  // An object or array starts at i_ (its bracket).
  [[gnu::always_inline]] void open(json_type type, std::string_view key, bool key_nul) {
    open_container f;
    f.idx = push(key, key_nul, type);
    f.is_object = type == json_type::object;
    f.closing = f.is_object ? '}' : ']';
    stack_.push_back(f);
    ++i_;
  }

  // The value at nodes_[idx] is complete, ending at i_: account for it in its
  // parent.
  void finished(std::uint32_t idx) {
    json_node& n = nodes_[idx];
    n.end = static_cast<std::uint32_t>(i_);
    if (stack_.empty()) return;
    open_container& parent = stack_.back();
    ++parent.count;
    if (n.has_nul) nodes_[parent.idx].has_nul = true;
  }
  // The same for a scalar (in walk(): inside an object or array): its
  // subtree is itself.
  void finished_scalar(std::uint32_t idx) {
    json_node& n = nodes_[idx];
    n.end = static_cast<std::uint32_t>(i_);
    n.next = idx + 1;
    open_container& parent = stack_.back();
    ++parent.count;
    if (n.has_nul) nodes_[parent.idx].has_nul = true;
  }

  // Where a byte was expected: the end of the input (the NUL after it) is a
  // truncated document, anything else `message`. The scans need no bounds
  // check before this: the NUL matches nothing they look for.
  [[gnu::cold, gnu::noinline]] bool unexpected(const char* message) {
    return i_ == n_ ? whole(kTruncated) : fail(message);
  }

  bool walk() {
    while (!stack_.empty()) {
      open_container& f = stack_.back();
      skip_ws();
      if (s_[i_] == f.closing) {  // right after a comma the bracket is read as a value below, and refused
        close();
        continue;
      }
      if (f.count > 0) {
        if (s_[i_] != ',') return i_ == n_ ? whole(kTruncated) : expected_separator(f.closing);
        ++i_;
        skip_ws();
      }
      std::string_view key;
      bool key_nul = false;
      if (f.is_object) {
        if (s_[i_] != '"') return unexpected("is not valid JSON: expected a member name in double quotes");
        if (!string(key, key_nul)) return false;
        skip_ws();
        if (s_[i_] != ':') return unexpected("is not valid JSON: expected ':' after a member name");
        ++i_;
        skip_ws();
      }
      // `f` may dangle once a frame is pushed: only indices from here on.
      if (!value(key, key_nul)) return false;
    }
    return true;
  }

  // The closing bracket at i_ ends the innermost container.
  void close() {
    const std::uint32_t idx = stack_.back().idx;
    json_node& n = nodes_[idx];
    n.count = stack_.back().count;
    n.next = static_cast<std::uint32_t>(nodes_.size());
    stack_.pop_back();
    ++i_;
    finished(idx);
  }

  // One value at i_ (not whitespace): a scalar completes at once, an object
  // or array becomes the new innermost frame.
  // Inlined into walk(), its one caller in the loop: a call per value, with
  // the registers it saves and restores, was a tenth of the parse.
  [[gnu::always_inline]] bool value(std::string_view key, bool key_nul) {
    const char c = s_[i_];
    switch (c) {
      case '{':
      case '[':
        if (static_cast<int>(stack_.size()) + 1 > max_depth_) return too_deep();
        open(c == '{' ? json_type::object : json_type::array, key, key_nul);
        return true;
      case '"': {
        const std::uint32_t idx = push(key, key_nul, json_type::string);
        std::string_view s;
        bool nul = false;
        if (!string(s, nul)) return false;
        nodes_[idx].text = s;
        if (nul) nodes_[idx].has_nul = true;
        finished_scalar(idx);
        return true;
      }
      case 't': return literal("true", json_type::boolean, true, key, key_nul);
      case 'f': return literal("false", json_type::boolean, false, key, key_nul);
      case 'n': return literal("null", json_type::null, false, key, key_nul);
      default: break;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      // One pass: the number's grammar, then a byte that could not follow it
      // (the NUL after the input ends the scan).
      const std::size_t length = number_length(std::string_view(s_ + i_, n_ - i_));
      const std::size_t end = i_ + length;
      const std::string_view literal(s_ + i_, length);
      if (length == 0 || is_number_byte(s_[end])) return malformed_number();
      const std::uint32_t idx = push(key, key_nul, json_type::number);
      i_ = end;
      nodes_[idx].text = literal;
      finished_scalar(idx);
      return true;
    }
    return unexpected("is not valid JSON: unexpected character");
  }

  bool literal(std::string_view word, json_type type, bool b, std::string_view key, bool key_nul) {
    const bool is_word = n_ - i_ >= word.size() && std::string_view(s_ + i_, word.size()) == word;
    const char a = is_word ? s_[i_ + word.size()] : '\0';  // the input, or the NUL after it
    const bool alnum_after = (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') || (a >= '0' && a <= '9') || a == '_';
    if (!is_word || alnum_after) {
      return fail("is not valid JSON: a literal other than true, false or null");
    }
    const std::uint32_t idx = push(key, key_nul, type);
    nodes_[idx].boolean = b;
    i_ += word.size();
    finished_scalar(idx);
    return true;
  }

  // The string whose opening quote is at i_; i_ ends past its closing one.
  // Its text is a view of the input when it holds no escape.
  // Inline: most strings have no escape, and end at their plain run.
  [[gnu::always_inline]] bool string(std::string_view& text, bool& nul) {
    const char* p = s_ + i_ + 1;
    const char* q = plain_end(p);
    if (*q == '"') {
      text = std::string_view(p, static_cast<std::size_t>(q - p));
      i_ = static_cast<std::size_t>(q - s_) + 1;
      return true;
    }
    return escaped_string(p, q, text, nul);
  }

  // The rest of a string whose plain run [p, q) ends at an escape (or a
  // control character, refused below): the plain bytes are copied to the
  // string buffer, the rest decoded there.
  [[gnu::noinline]] bool escaped_string(const char* p, const char* q, std::string_view& text, bool& nul) {
    const std::size_t open_quote = i_;
    char* const start = out_;
    std::memcpy(out_, p, static_cast<std::size_t>(q - p));
    out_ += q - p;
    for (;;) {
      const char c = *q;
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) {
        if (static_cast<std::size_t>(q - s_) >= n_) return whole("is not valid JSON: a string is not closed");
        return fail_at("is not valid JSON: a string holds an unescaped control character", open_quote);
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
          if (cp < 0) return fail_at("is not valid JSON: a \\u escape without four hex digits", open_quote);
          q += 4;
          if (cp >= 0xD800 && cp < 0xDC00) {
            // A high surrogate: a low one must follow.
            const long low = q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;
            if (low < 0xDC00 || low > 0xDFFF) {
              return fail_at("is not valid JSON: a \\u escape holds half of a surrogate pair", open_quote);
            }
            q += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail_at("is not valid JSON: a \\u escape holds half of a surrogate pair", open_quote);
          }
          if (cp == 0) nul = true;
          out_ += text::encode_utf8(static_cast<char32_t>(cp), out_);
          break;
        }
        default:
          if (static_cast<std::size_t>(q - 2 - s_) + 1 >= n_) return whole("is not valid JSON: a string is not closed");
          return fail_at("is not valid JSON: a string holds an unknown escape", open_quote);
      }
    }
    text = std::string_view(start, static_cast<std::size_t>(out_ - start));
    i_ = static_cast<std::size_t>(q - s_) + 1;
    return true;
  }

  std::vector<json_node>& nodes_;
  std::vector<open_container>& stack_;
  const char* s_;  // the input, followed by a NUL
  std::size_t n_;
  std::size_t i_ = 0;
  char* out_;  // where the next decoded string goes
  int max_depth_;
  std::string error_;
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
  if (ordinary && st.tree.nodes_.capacity() > kKeepNodes) std::vector<json_node>().swap(st.tree.nodes_);
  // The NUL after the input ends every scan (a NUL inside a string is an
  // error, so the scans need no bounds check).
  st.buffer.resize(text.size() + kPadding);
  if (!text.empty()) std::memcpy(st.buffer.data(), text.data(), text.size());
  std::memset(st.buffer.data() + text.size(), 0, kPadding);
  // A decoded string is never longer than its JSON text.
  if (st.strings.size() < text.size() + 8) st.strings.resize(text.size() + 8);
  st.tree.nodes_.clear();
  st.tree.source_ = std::string_view(st.buffer.data(), text.size());

  json_tree_builder builder(st.tree.nodes_, st.stack, st.buffer.data(), text.size(), st.strings.data(), max_depth);
  if (!builder.root()) {
    st.tree.nodes_.clear();
    return make_error(builder.error());
  }
  return static_cast<const json_tree*>(&st.tree);
}

}  // namespace kafnus::ngsi
