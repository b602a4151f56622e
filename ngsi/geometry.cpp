#include "ngsi/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ngsi/text.hpp"
#include "text/number.hpp"

namespace kafnus::ngsi {
namespace {

constexpr int kSrid = 4326;
constexpr std::uint32_t kZFlag = 0x80000000u;
constexpr std::uint32_t kSridFlag = 0x20000000u;

// WKB type codes.
enum wkb : std::uint32_t {
  wkb_point = 1,
  wkb_line = 2,
  wkb_polygon = 3,
  wkb_multipoint = 4,
  wkb_multiline = 5,
  wkb_multipolygon = 6,
  wkb_collection = 7,
};

struct position {
  double x = 0;
  double y = 0;
  double z = 0;
};

bool finite_number(std::string_view s, double& out) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return text::read_double(s, out) && std::isfinite(out);
}

std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// EWKB (little-endian), written as the geometry is read: no intermediate
// geometry objects. The outermost geometry carries the SRID flag and SRID;
// every level carries the Z flag when the positions are 3D. That is known
// from the first position read (a geometry mixing 2D and 3D positions is an
// error, as it is for PostGIS), so the type codes written before it are kept
// and given the flag at the end if it applies. The bytes gather in a small
// buffer of the writer's and go to the caller's string a buffer at a time
// (a point is one append, not five) and at finish(), which makes the
// string whole (write_geometry empties it first: a thread's scratch, whose
// capacity stays from one value to the next).
class ewkb_writer {
 public:
  explicit ewkb_writer(std::string& out) : out_(out) {}
  ewkb_writer(const ewkb_writer&) = delete;
  ewkb_writer& operator=(const ewkb_writer&) = delete;

  // Whether positions carry Z, once the first one is read.
  void dimension(bool z) noexcept { z_ = z ? 1 : 0; }
  // A geometry's header: byte order, type code, and the SRID when outermost.
  void header(std::uint32_t code, bool outer) {
    room(9);
    put(1, 1);
    code |= outer ? kSridFlag : 0u;
    if (z_ < 0) {
      pending_.emplace_back(size(), code);
    } else if (z_ == 1) {
      code |= kZFlag;
    }
    put(code, 4);
    if (outer) put(static_cast<std::uint32_t>(kSrid), 4);
  }
  void count(std::size_t n) {
    room(4);
    put(n, 4);
  }
  void point(const position& p) {
    room(24);
    f64(p.x);
    f64(p.y);
    if (z_ == 1) f64(p.z);
  }
  std::size_t size() const noexcept { return out_.size() + used_; }
  // Drops what was written from `size` on (an empty outer ring, see polygon).
  void truncate(std::size_t size) {
    flush();
    out_.resize(size);
    while (!pending_.empty() && pending_.back().first >= size) pending_.pop_back();
  }
  // The geometry is complete: its bytes are all in the caller's string, and
  // the type codes written before its dimension was known get the Z flag
  // if it applies.
  value_kind finish() {
    flush();
    if (z_ == 1) {
      for (const auto& [at, code] : pending_) put_le(&out_[at], code | kZFlag, 4);
    }
    return value_kind::geometry;
  }

 private:
  // Little-endian unsigned integer of `bytes` bytes, written at `out`.
  static void put_le(char* out, std::uint64_t v, int bytes) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::memcpy(out, &v, static_cast<std::size_t>(bytes));
#else
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(static_cast<std::uint8_t>(v >> (8 * i)));
#endif
  }
  // Room for `bytes` more in the buffer (what it holds goes to the string).
  void room(std::size_t bytes) {
    if (used_ + bytes > sizeof buffer_) flush();
  }
  void flush() {
    out_.append(buffer_, used_);
    used_ = 0;
  }
  // Within the room made: every caller makes room for all it puts.
  void put(std::uint64_t v, int bytes) noexcept {
    put_le(buffer_ + used_, v, bytes);
    used_ += static_cast<std::size_t>(bytes);
  }
  void f64(double d) noexcept {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    put(bits, 8);
  }

  std::string& out_;
  char buffer_[256];
  std::size_t used_ = 0;
  int z_ = -1;                                                  // unknown until the first position
  std::vector<std::pair<std::size_t, std::uint32_t>> pending_;  // type codes written before: offset, value
};

// EWKB of a 2D point, the most common geometry there is.
value_kind point_ewkb(const position& p, std::string& out) {
  ewkb_writer w(out);
  w.dimension(false);
  w.header(wkb_point, true);
  w.point(p);
  return w.finish();
}

// EWKB of a 2D LineString (`code` 2) or of a Polygon of one ring (3).
value_kind simple_ewkb(std::uint32_t code, const std::vector<position>& ps, std::string& out) {
  ewkb_writer w(out);
  w.dimension(false);
  w.header(code, true);
  if (code == wkb_polygon) w.count(1);
  w.count(ps.size());
  for (const auto& p : ps) w.point(p);
  return w.finish();
}

// --- NGSI simple location format: "lat,lon" strings -------------------------

bool lat_lon(std::string_view s, position& p, std::string& why) {
  const auto comma = s.find(',');
  if (comma == std::string_view::npos || s.find(',', comma + 1) != std::string_view::npos) {
    why = quoted(s, kValueExcerpt) + " is not \"lat,lon\" (two numbers separated by one comma)";
    return false;
  }
  const std::string_view lat_text = trim_blanks(s.substr(0, comma));
  const std::string_view lon_text = trim_blanks(s.substr(comma + 1));
  double lat = 0, lon = 0;
  if (!finite_number(lat_text, lat)) {
    why = "latitude " + quoted(lat_text, kValueExcerpt) + " is not a finite number";
    return false;
  }
  if (!finite_number(lon_text, lon)) {
    why = "longitude " + quoted(lon_text, kValueExcerpt) + " is not a finite number";
    return false;
  }
  if (lat < -90 || lat > 90) {
    why = "latitude " + std::string(lat_text.substr(0, kValueExcerpt)) + " is outside [-90, 90]";
    return false;
  }
  if (lon < -180 || lon > 180) {
    why = "longitude " + std::string(lon_text.substr(0, kValueExcerpt)) + " is outside [-180, 180]";
    return false;
  }
  p = {lon, lat, 0};  // x is the longitude
  return true;
}

result<std::vector<position>> lat_lon_list(const json_tree& t, std::uint32_t node, const char* shape) {
  const json_node& n = t.at(node);
  if (n.type != json_type::array) {
    return make_error(std::string("the value is ") + describe(n.type) + ", expected " + shape);
  }
  std::vector<position> ps;
  ps.reserve(n.count);
  std::uint32_t i = 0;
  for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t.at(c).next, ++i) {
    if (t.at(c).type != json_type::string) {
      return make_error("element " + std::to_string(i) + " is " + describe(t.at(c).type) + ", expected \"lat,lon\"");
    }
    position p;
    std::string why;
    if (!lat_lon(t.at(c).text, p, why)) return make_error("element " + std::to_string(i) + ": " + why);
    ps.push_back(p);
  }
  return ps;
}

result<value_kind> simple_point(const json_tree& t, std::uint32_t node, std::string& out) {
  const json_node& n = t.at(node);
  if (n.type != json_type::string) {
    return make_error(std::string("the value is ") + describe(n.type) + ", expected a string \"lat,lon\"");
  }
  position p;
  std::string why;
  if (!lat_lon(n.text, p, why)) return make_error(why);
  return point_ewkb(p, out);
}

result<value_kind> simple_line(const json_tree& t, std::uint32_t node, std::string& out) {
  auto ps = lat_lon_list(t, node, "an array of \"lat,lon\" strings");
  if (!ps) return ps.err();
  if (ps.value().size() < 2) {
    return make_error("a geo:line needs at least 2 points, found " + std::to_string(ps.value().size()));
  }
  return simple_ewkb(wkb_line, ps.value(), out);
}

result<value_kind> simple_polygon(const json_tree& t, std::uint32_t node, std::string& out) {
  auto ps = lat_lon_list(t, node, "an array of \"lat,lon\" strings");
  if (!ps) return ps.err();
  const auto& pts = ps.value();
  if (pts.size() < 4) {
    return make_error("a geo:polygon needs at least 4 points (a closed ring), found " + std::to_string(pts.size()));
  }
  if (pts.front().x != pts.back().x || pts.front().y != pts.back().y) {
    return make_error("the geo:polygon ring is not closed: its last point must repeat the first");
  }
  return simple_ewkb(wkb_polygon, pts, out);
}

result<value_kind> simple_box(const json_tree& t, std::uint32_t node, std::string& out) {
  auto ps = lat_lon_list(t, node, "an array of two \"lat,lon\" corners");
  if (!ps) return ps.err();
  const auto& c = ps.value();
  if (c.size() != 2) {
    return make_error("a geo:box needs exactly 2 corners \"lat,lon\", found " + std::to_string(c.size()));
  }
  const double x0 = std::min(c[0].x, c[1].x), x1 = std::max(c[0].x, c[1].x);
  const double y0 = std::min(c[0].y, c[1].y), y1 = std::max(c[0].y, c[1].y);
  // Counter-clockwise from the lower-left corner, closed.
  return simple_ewkb(wkb_polygon, {{x0, y0, 0}, {x1, y0, 0}, {x1, y1, 0}, {x0, y1, 0}, {x0, y0, 0}}, out);
}

// --- GeoJSON ----------------------------------------------------------------

constexpr const char* kGeoJsonTypes =
    "Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon, GeometryCollection, Feature or "
    "FeatureCollection";

// Where in a GeoJSON value a part is, for messages ("features[1]: Feature
// geometry: Polygon coordinates ring 2"): a chain of pieces on the stack,
// each its parent's text, `before`, the index if any, and `after`; made
// into text only when there is an error to tell (building it for every
// part read, most of them fine, cost more than reading the part).
struct place {
  const place* parent = nullptr;
  const char* before = "";
  long index = -1;
  const char* after = "";

  std::string text() const {
    std::string s = parent != nullptr ? parent->text() : std::string();
    s += before;
    if (index >= 0) s += std::to_string(index);
    s += after;
    return s;
  }
};

// Reads a GeoJSON object and writes its geometry as it goes. Each step
// returns false with `error` set when the input is not what it must be; the
// output is then abandoned.
class geojson_reader {
 public:
  geojson_reader(const json_tree& t, std::string& bytes) : out(bytes), t_(t) {}

  std::string error;
  ewkb_writer out;

  // A geometry object.
  bool geometry(std::uint32_t node, const place& where, bool outer) {
    std::string_view type;
    return type_of(node, where, type) && geometry(node, type, where, outer);
  }
  // The same, its "type" read already.
  bool geometry(std::uint32_t node, std::string_view type, const place& where, bool outer) {
    if (iequals(type, "GeometryCollection")) {
      const std::uint32_t gs = t_.member(node, "geometries");
      if (gs == json_tree::npos || t_.at(gs).type != json_type::array) {
        return fail(where.text() + "GeometryCollection needs a \"geometries\" array");
      }
      out.header(wkb_collection, outer);
      out.count(t_.at(gs).count);
      std::uint32_t i = 0;
      for (std::uint32_t c = json_tree::first_child(gs); c < t_.at(gs).next; c = t_.at(c).next, ++i) {
        if (!geometry(c, place{&where, "geometries[", static_cast<long>(i), "]: "}, false)) return false;
      }
      return true;
    }
    const std::uint32_t coords = t_.member(node, "coordinates");
    if (coords == json_tree::npos) return fail(where.text() + std::string(type) + " has no \"coordinates\"");
    if (iequals(type, "Point")) {
      position p;
      if (!read_position(coords, p, place{&where, "Point coordinates"})) return false;
      out.header(wkb_point, outer);
      out.point(p);
      return true;
    }
    if (iequals(type, "LineString")) return line(coords, place{&where, "LineString coordinates"}, outer);
    if (iequals(type, "Polygon")) return polygon(coords, place{&where, "Polygon coordinates"}, outer);
    if (iequals(type, "MultiPoint")) {
      const place part_where{&where, "MultiPoint coordinates"};
      const json_node& n = t_.at(coords);
      if (n.type != json_type::array) {
        return fail(part_where.text() + " must be an array of positions, found " + describe(n.type));
      }
      out.header(wkb_multipoint, outer);
      out.count(n.count);
      for (std::uint32_t c = json_tree::first_child(coords); c < n.next; c = t_.at(c).next) {
        position p;
        if (!read_position(c, p, part_where)) return false;
        out.header(wkb_point, false);
        out.point(p);
      }
      return true;
    }
    if (iequals(type, "MultiLineString")) {
      return multi(coords, place{&where, "MultiLineString coordinates"}, wkb_multiline, &geojson_reader::line, outer);
    }
    if (iequals(type, "MultiPolygon")) {
      return multi(coords, place{&where, "MultiPolygon coordinates"}, wkb_multipolygon, &geojson_reader::polygon,
                   outer);
    }
    return fail(where.text() + "unsupported GeoJSON geometry type " + quoted(type) + " (expected " + kGeoJsonTypes +
                ")");
  }

  // The "geometry" member of a Feature, checked to be a Feature; npos (and
  // no error) when that geometry is null.
  bool feature_geometry(std::uint32_t node, const place& where, std::uint32_t& geometry_node) {
    std::string_view type;
    if (!type_of(node, where, type)) return false;
    if (!iequals(type, "Feature")) {
      return fail(where.text() + "is a " + std::string(type.substr(0, kNameExcerpt)) + ", expected a Feature");
    }
    const std::uint32_t g = t_.member(node, "geometry");
    if (g == json_tree::npos) return fail(where.text() + "Feature has no \"geometry\" member");
    geometry_node = t_.at(g).type == json_type::null ? json_tree::npos : g;
    return true;
  }

  bool type_of(std::uint32_t node, const place& where, std::string_view& type) {
    if (t_.at(node).type != json_type::object) {
      return fail(where.text() + "is " + describe(t_.at(node).type) + ", expected a GeoJSON object");
    }
    const std::uint32_t ty = t_.member(node, "type");
    if (ty == json_tree::npos || t_.at(ty).type != json_type::string) {
      return fail(where.text() + "the GeoJSON object has no string \"type\" (expected " + kGeoJsonTypes + ")");
    }
    type = t_.at(ty).text;
    return true;
  }

  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }

 private:
  bool read_position(std::uint32_t node, position& p, const place& where) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array || n.count < 2 || n.count > 3) {
      return fail(
          where.text() + ": a position must be an array of 2 or 3 numbers [x, y] or [x, y, z], found " +
          (n.type == json_type::array ? "an array of " + std::to_string(n.count) : std::string(describe(n.type))));
    }
    double v[3] = {0, 0, 0};
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      const json_node& e = t_.at(c);
      if (e.type != json_type::number || !finite_number(e.text, v[i])) {
        return fail(where.text() + ": coordinate " +
                    (e.type == json_type::number ? quoted(e.text, kValueExcerpt) : std::string(describe(e.type))) +
                    " is not a finite number");
      }
    }
    (n.count == 3 ? saw_3d_ : saw_2d_) = true;
    if (saw_2d_ && saw_3d_) return fail(where.text() + ": the geometry mixes 2D and 3D positions");
    out.dimension(saw_3d_);
    p = {v[0], v[1], v[2]};
    return true;
  }

  // A counted run of positions (a LineString's or a ring's); `min` positions
  // at least unless empty, and `closed`: the last repeats the first (in x, y).
  bool positions(std::uint32_t node, const place& where, const char* what, std::uint32_t min, bool closed) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) {
      return fail(where.text() + " must be an array of positions, found " + describe(n.type));
    }
    if (n.count != 0 && n.count < min) {
      return fail(where.text() + ": " + what + " needs " + (min == 2 ? "0 or " : "") + "at least " +
                  std::to_string(min) + " positions, found " + std::to_string(n.count));
    }
    out.count(n.count);
    position first;
    position p;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next) {
      if (!read_position(c, p, where)) return false;
      if (c == json_tree::first_child(node)) first = p;
      out.point(p);
    }
    if (closed && n.count != 0 && (first.x != p.x || first.y != p.y)) {
      return fail(where.text() + ": the ring is not closed (its last position must repeat the first)");
    }
    return true;
  }

  bool line(std::uint32_t node, const place& where, bool outer) {
    out.header(wkb_line, outer);
    return positions(node, where, "a LineString", 2, false);
  }

  bool polygon(std::uint32_t node, const place& where, bool outer) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) return fail(where.text() + " must be an array of rings, found " + describe(n.type));
    out.header(wkb_polygon, outer);
    const auto rings_at = out.size();
    out.count(n.count);
    bool empty_shell = false;
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      if (!positions(c, place{&where, " ring ", static_cast<long>(i)}, "a ring", 4, true)) return false;
      if (i == 0) empty_shell = t_.at(c).type == json_type::array && t_.at(c).count == 0;
    }
    if (empty_shell) {
      if (n.count > 1) return fail("a Polygon whose outer ring is empty cannot have holes");
      // [[]] is the empty Polygon, as [] is: no rings.
      out.truncate(rings_at);
      out.count(0);
    }
    return true;
  }

  bool multi(std::uint32_t node, const place& where, std::uint32_t code,
             bool (geojson_reader::*part)(std::uint32_t, const place&, bool), bool outer) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) return fail(where.text() + " must be an array, found " + describe(n.type));
    out.header(code, outer);
    out.count(n.count);
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      if (!(this->*part)(c, place{&where, "[", static_cast<long>(i), "]"}, false)) return false;
    }
    return true;
  }

  const json_tree& t_;
  bool saw_2d_ = false;
  bool saw_3d_ = false;
};

result<value_kind> geojson(const json_tree& t, std::uint32_t node, std::string& bytes) {
  geojson_reader r(t, bytes);
  std::string_view type;
  if (!r.type_of(node, place{}, type)) return make_error(r.error);
  if (iequals(type, "Feature")) {
    std::uint32_t g = json_tree::npos;
    if (!r.feature_geometry(node, place{}, g)) return make_error(r.error);
    if (g == json_tree::npos) return value_kind::null;
    if (!r.geometry(g, place{nullptr, "Feature geometry: "}, true)) return make_error(r.error);
  } else if (iequals(type, "FeatureCollection")) {
    const std::uint32_t fs = t.member(node, "features");
    if (fs == json_tree::npos || t.at(fs).type != json_type::array) {
      return make_error("a FeatureCollection needs a \"features\" array");
    }
    if (t.at(fs).count == 0) return make_error("the FeatureCollection has no features, so no geometry");
    // Every feature is checked first; a feature without geometry adds
    // nothing; one geometry is the value itself, several a GeometryCollection.
    std::vector<std::pair<std::uint32_t, long>> parts;  // a geometry, the index of its feature
    long i = 0;
    for (std::uint32_t c = json_tree::first_child(fs); c < t.at(fs).next; c = t.at(c).next, ++i) {
      std::uint32_t g = json_tree::npos;
      if (!r.feature_geometry(c, place{nullptr, "features[", i, "]: "}, g)) return make_error(r.error);
      if (g == json_tree::npos) continue;
      parts.emplace_back(g, i);
    }
    if (parts.empty()) return value_kind::null;
    const bool one = parts.size() == 1;
    if (!one) {
      r.out.header(wkb_collection, true);
      r.out.count(parts.size());
    }
    for (const auto& [g, feature] : parts) {
      const place where{nullptr, "features[", feature, "]: "};
      if (!r.geometry(g, place{&where, "Feature geometry: "}, one)) return make_error(r.error);
    }
  } else if (!r.geometry(node, type, place{}, true)) {
    return make_error(r.error);
  }
  return r.out.finish();
}

}  // namespace

result<value_kind> write_geometry(std::string_view ngsi_type, const json_tree& tree, std::uint32_t node,
                                  std::string& ewkb) {
  ewkb.clear();
  const std::string_view subtype = ngsi_type.substr(4);
  if (iequals(subtype, "point")) return simple_point(tree, node, ewkb);
  if (iequals(subtype, "json")) return geojson(tree, node, ewkb);
  if (iequals(subtype, "line")) return simple_line(tree, node, ewkb);
  if (iequals(subtype, "polygon")) return simple_polygon(tree, node, ewkb);
  if (iequals(subtype, "box")) return simple_box(tree, node, ewkb);
  return make_error("unsupported geometry type " + quoted(ngsi_type) +
                    "; supported: geo:point, geo:line, geo:box, geo:polygon, geo:json");
}

}  // namespace kafnus::ngsi
