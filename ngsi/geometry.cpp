#include "ngsi/geometry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <geos_c.h>

#include <cstring>

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

constexpr int kSrid = 4326;

// One GEOS context per thread: the reentrant API needs a handle per
// thread, and creating one per value would dominate the cost.
class geos_runtime {
 public:
  geos_runtime() : handle_(GEOS_init_r()) {
    if (handle_ == nullptr) return;
    GEOSContext_setErrorMessageHandler_r(handle_, &geos_runtime::on_error, this);
    GEOSContext_setNoticeMessageHandler_r(handle_, &geos_runtime::on_notice, nullptr);
  }
  ~geos_runtime() {
    if (handle_ != nullptr) GEOS_finish_r(handle_);
  }
  geos_runtime(const geos_runtime&) = delete;
  geos_runtime& operator=(const geos_runtime&) = delete;

  bool ready() const noexcept { return handle_ != nullptr; }
  GEOSContextHandle_t handle() const noexcept { return handle_; }
  // The message of the last GEOS failure; cleared before each call that may fail.
  std::string& message() noexcept { return message_; }

 private:
  static void on_error(const char* msg, void* self) {
    static_cast<geos_runtime*>(self)->message_ = msg != nullptr ? msg : "unknown GEOS error";
  }
  static void on_notice(const char*, void*) {}

  GEOSContextHandle_t handle_ = nullptr;
  std::string message_;
};

geos_runtime& geos() {
  thread_local geos_runtime rt;
  return rt;
}

struct geom_deleter {
  void operator()(GEOSGeometry* g) const noexcept { GEOSGeom_destroy_r(geos().handle(), g); }
};
using geom_ptr = std::unique_ptr<GEOSGeometry, geom_deleter>;

struct position {
  double x = 0;
  double y = 0;
  double z = 0;
};

bool finite_number(std::string_view s, double& out) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Builds GEOS geometries from positions and remembers why the last step
// failed. Positions of one geometry must all be 2D or all be 3D.
class builder {
 public:
  std::string error;

  void saw(bool with_z) noexcept { (with_z ? saw_3d_ : saw_2d_) = true; }
  bool has_z() const noexcept { return saw_3d_; }
  bool mixed() const noexcept { return saw_2d_ && saw_3d_; }

  geom_ptr point(const position& p, bool with_z) {
    auto* seq = sequence({p}, with_z);
    return seq == nullptr ? nullptr : made(GEOSGeom_createPoint_r(h(), seq), "a Point");
  }
  geom_ptr line(const std::vector<position>& ps, bool with_z) {
    auto* seq = sequence(ps, with_z);
    return seq == nullptr ? nullptr : made(GEOSGeom_createLineString_r(h(), seq), "a LineString");
  }
  geom_ptr ring(const std::vector<position>& ps, bool with_z) {
    auto* seq = sequence(ps, with_z);
    return seq == nullptr ? nullptr : made(GEOSGeom_createLinearRing_r(h(), seq), "a polygon ring");
  }
  geom_ptr polygon(std::vector<geom_ptr> rings) {
    if (rings.empty()) return made(GEOSGeom_createEmptyPolygon_r(h()), "an empty Polygon");
    if (GEOSisEmpty_r(h(), rings.front().get()) == 1 && rings.size() > 1) {
      error = "a Polygon whose outer ring is empty cannot have holes";
      return nullptr;
    }
    std::vector<GEOSGeometry*> holes;
    holes.reserve(rings.size() - 1);
    for (std::size_t i = 1; i < rings.size(); ++i) holes.push_back(rings[i].release());
    GEOSGeometry* shell = rings.front().release();
    geos().message().clear();
    GEOSGeometry* g = GEOSGeom_createPolygon_r(h(), shell, holes.data(), static_cast<unsigned>(holes.size()));
    return made(g, "a Polygon");
  }
  geom_ptr collection(int type, std::vector<geom_ptr> parts, const char* what) {
    std::vector<GEOSGeometry*> raw;
    raw.reserve(parts.size());
    for (auto& p : parts) raw.push_back(p.release());
    geos().message().clear();
    return made(GEOSGeom_createCollection_r(h(), type, raw.data(), static_cast<unsigned>(raw.size())), what);
  }

 private:
  static GEOSContextHandle_t h() noexcept { return geos().handle(); }

  GEOSCoordSequence* sequence(const std::vector<position>& ps, bool with_z) {
    geos().message().clear();
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h(), static_cast<unsigned>(ps.size()), with_z ? 3u : 2u);
    if (seq == nullptr) {
      error = "GEOS could not allocate coordinates: " + geos().message();
      return nullptr;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const auto idx = static_cast<unsigned>(i);
      const int ok = with_z ? GEOSCoordSeq_setXYZ_r(h(), seq, idx, ps[i].x, ps[i].y, ps[i].z)
                            : GEOSCoordSeq_setXY_r(h(), seq, idx, ps[i].x, ps[i].y);
      if (ok == 0) {
        GEOSCoordSeq_destroy_r(h(), seq);
        error = "GEOS could not store a coordinate: " + geos().message();
        return nullptr;
      }
    }
    return seq;
  }

  geom_ptr made(GEOSGeometry* g, const char* what) {
    if (g == nullptr) error = std::string("GEOS could not build ") + what + ": " + geos().message();
    return geom_ptr(g);
  }

  bool saw_2d_ = false;
  bool saw_3d_ = false;
};

// Little-endian unsigned integer of `bytes` bytes as upper-case hex, in one append.
void append_hex_le(std::string& out, std::uint64_t v, int bytes) {
  static const char* digits = "0123456789ABCDEF";
  char buf[16];
  for (std::size_t i = 0; i < static_cast<std::size_t>(bytes); ++i) {
    const auto b = static_cast<std::uint8_t>(v >> (8 * i));
    buf[2 * i] = digits[b >> 4];
    buf[2 * i + 1] = digits[b & 15];
  }
  out.append(buf, 2 * static_cast<std::size_t>(bytes));
}

void append_f64(std::string& out, double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  append_hex_le(out, bits, 8);
}

// The EWKB header of a geometry: byte order (little-endian), type code with
// the Z and SRID flags, and the SRID on the outermost geometry.
void append_ewkb_header(std::string& out, std::uint32_t code, bool z, bool outer) {
  append_hex_le(out, 1, 1);
  append_hex_le(out, code | (z ? 0x80000000u : 0u) | (outer ? 0x20000000u : 0u), 4);
  if (outer) append_hex_le(out, static_cast<std::uint32_t>(kSrid), 4);
}

// Hex EWKB of a 2D point, written directly: a point needs nothing GEOS
// checks, and geo:point is the most common geometry there is. The same bytes
// as walking a GEOS point (ewkb_hex below); the geometry tests hold both to it.
value point_ewkb(const position& p) {
  std::string out;
  out.reserve(50);
  append_ewkb_header(out, 1, false, true);
  append_f64(out, p.x);
  append_f64(out, p.y);
  return value::geometry(std::move(out));
}

// Hex EWKB of a GEOS geometry, written by walking it: GEOS's own hex writer
// goes through iostreams twice (binary out, then read back as hex) and was a
// fifth of the daemon's processing time. Little-endian; the outermost
// geometry carries the SRID flag and SRID; every level carries Z when 3D.
class ewkb_hex {
 public:
  ewkb_hex(GEOSContextHandle_t h, bool z) : h_(h), z_(z) {}

  bool write(const GEOSGeometry* g) { return geometry(g, true); }
  std::string take() { return std::move(out_); }

 private:
  void u32(std::uint32_t v) { append_hex_le(out_, v, 4); }
  void f64(double d) { append_f64(out_, d); }
  bool coords(const GEOSGeometry* g, bool counted) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h_, g);
    unsigned n = 0;
    if (seq == nullptr || GEOSCoordSeq_getSize_r(h_, seq, &n) == 0) return false;
    if (counted) u32(n);
    for (unsigned i = 0; i < n; ++i) {
      double x = 0, y = 0, z = 0;
      if (GEOSCoordSeq_getXYZ_r(h_, seq, i, &x, &y, &z) == 0) return false;
      f64(x);
      f64(y);
      if (z_) f64(z);
    }
    return true;
  }
  bool geometry(const GEOSGeometry* g, bool outer) {
    const int id = GEOSGeomTypeId_r(h_, g);
    // WKB codes: Point 1, LineString 2, Polygon 3, MultiPoint 4,
    // MultiLineString 5, MultiPolygon 6, GeometryCollection 7.
    std::uint32_t code;
    switch (id) {
      case GEOS_POINT: code = 1; break;
      case GEOS_LINESTRING:
      case GEOS_LINEARRING: code = 2; break;
      case GEOS_POLYGON: code = 3; break;
      case GEOS_MULTIPOINT: code = 4; break;
      case GEOS_MULTILINESTRING: code = 5; break;
      case GEOS_MULTIPOLYGON: code = 6; break;
      case GEOS_GEOMETRYCOLLECTION: code = 7; break;
      default: return false;
    }
    append_ewkb_header(out_, code, z_, outer);
    if (code == 1) {
      if (GEOSisEmpty_r(h_, g) == 1) {  // POINT EMPTY: NaN coordinates, as PostGIS writes it
        for (int i = 0; i < (z_ ? 3 : 2); ++i) f64(std::nan(""));
        return true;
      }
      return coords(g, false);
    }
    if (code == 2) return coords(g, true);
    if (code == 3) {
      if (GEOSisEmpty_r(h_, g) == 1) {
        u32(0);
        return true;
      }
      const int holes = GEOSGetNumInteriorRings_r(h_, g);
      if (holes < 0) return false;
      u32(static_cast<std::uint32_t>(holes + 1));
      if (!coords(GEOSGetExteriorRing_r(h_, g), true)) return false;
      for (int i = 0; i < holes; ++i) {
        if (!coords(GEOSGetInteriorRingN_r(h_, g, i), true)) return false;
      }
      return true;
    }
    const int parts = GEOSGetNumGeometries_r(h_, g);
    if (parts < 0) return false;
    u32(static_cast<std::uint32_t>(parts));
    for (int i = 0; i < parts; ++i) {
      if (!geometry(GEOSGetGeometryN_r(h_, g, i), false)) return false;
    }
    return true;
  }

  GEOSContextHandle_t h_;
  bool z_;
  std::string out_;
};

result<value> to_ewkb(geom_ptr g, bool has_z) {
  geos_runtime& rt = geos();
  rt.message().clear();
  ewkb_hex writer(rt.handle(), has_z);
  if (!writer.write(g.get())) return make_error("the geometry could not be written as WKB: " + rt.message());
  return value::geometry(writer.take());
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

result<value> simple_point(const json_tree& t, std::uint32_t node) {
  const json_node& n = t.at(node);
  if (n.type != json_type::string) {
    return make_error(std::string("the value is ") + describe(n.type) + ", expected a string \"lat,lon\"");
  }
  position p;
  std::string why;
  if (!lat_lon(n.text, p, why)) return make_error(why);
  return point_ewkb(p);
}

result<value> simple_line(const json_tree& t, std::uint32_t node) {
  auto ps = lat_lon_list(t, node, "an array of \"lat,lon\" strings");
  if (!ps) return ps.err();
  if (ps.value().size() < 2) {
    return make_error("a geo:line needs at least 2 points, found " + std::to_string(ps.value().size()));
  }
  builder b;
  auto g = b.line(ps.value(), false);
  if (!g) return make_error(b.error);
  return to_ewkb(std::move(g), false);
}

result<value> simple_polygon(const json_tree& t, std::uint32_t node) {
  auto ps = lat_lon_list(t, node, "an array of \"lat,lon\" strings");
  if (!ps) return ps.err();
  const auto& pts = ps.value();
  if (pts.size() < 4) {
    return make_error("a geo:polygon needs at least 4 points (a closed ring), found " + std::to_string(pts.size()));
  }
  if (pts.front().x != pts.back().x || pts.front().y != pts.back().y) {
    return make_error("the geo:polygon ring is not closed: its last point must repeat the first");
  }
  builder b;
  std::vector<geom_ptr> rings;
  rings.push_back(b.ring(pts, false));
  if (!rings.back()) return make_error(b.error);
  auto g = b.polygon(std::move(rings));
  if (!g) return make_error(b.error);
  return to_ewkb(std::move(g), false);
}

result<value> simple_box(const json_tree& t, std::uint32_t node) {
  auto ps = lat_lon_list(t, node, "an array of two \"lat,lon\" corners");
  if (!ps) return ps.err();
  const auto& c = ps.value();
  if (c.size() != 2) {
    return make_error("a geo:box needs exactly 2 corners \"lat,lon\", found " + std::to_string(c.size()));
  }
  const double x0 = std::min(c[0].x, c[1].x), x1 = std::max(c[0].x, c[1].x);
  const double y0 = std::min(c[0].y, c[1].y), y1 = std::max(c[0].y, c[1].y);
  // Counter-clockwise from the lower-left corner, closed.
  const std::vector<position> ring = {{x0, y0, 0}, {x1, y0, 0}, {x1, y1, 0}, {x0, y1, 0}, {x0, y0, 0}};
  builder b;
  std::vector<geom_ptr> rings;
  rings.push_back(b.ring(ring, false));
  if (!rings.back()) return make_error(b.error);
  auto g = b.polygon(std::move(rings));
  if (!g) return make_error(b.error);
  return to_ewkb(std::move(g), false);
}

// --- GeoJSON ----------------------------------------------------------------

constexpr const char* kGeoJsonTypes =
    "Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon, GeometryCollection, Feature or "
    "FeatureCollection";

class geojson_reader {
 public:
  explicit geojson_reader(const json_tree& t) : t_(t) {}

  builder b;

  // A geometry object; nullptr with b.error set when it is not one.
  geom_ptr geometry(std::uint32_t node, const std::string& where) {
    std::string_view type;
    if (!type_of(node, where, type)) return nullptr;
    if (iequals(type, "GeometryCollection")) {
      const std::uint32_t gs = t_.member(node, "geometries");
      if (gs == json_tree::npos || t_.at(gs).type != json_type::array) {
        return fail(where + "GeometryCollection needs a \"geometries\" array");
      }
      std::vector<geom_ptr> parts;
      parts.reserve(t_.at(gs).count);
      std::uint32_t i = 0;
      for (std::uint32_t c = json_tree::first_child(gs); c < t_.at(gs).next; c = t_.at(c).next, ++i) {
        parts.push_back(geometry(c, where + "geometries[" + std::to_string(i) + "]: "));
        if (!parts.back()) return nullptr;
      }
      return b.collection(GEOS_GEOMETRYCOLLECTION, std::move(parts), "a GeometryCollection");
    }
    const std::uint32_t coords = t_.member(node, "coordinates");
    if (coords == json_tree::npos) return fail(where + std::string(type) + " has no \"coordinates\"");
    if (iequals(type, "Point")) {
      position p;
      bool z = false;
      if (!read_position(coords, p, z, where + "Point coordinates")) return nullptr;
      return b.point(p, z);
    }
    if (iequals(type, "LineString")) return line(coords, where + "LineString coordinates");
    if (iequals(type, "Polygon")) return polygon(coords, where + "Polygon coordinates");
    if (iequals(type, "MultiPoint")) {
      std::vector<position> ps;
      bool z = false;
      if (!read_positions(coords, ps, z, where + "MultiPoint coordinates")) return nullptr;
      std::vector<geom_ptr> parts;
      parts.reserve(ps.size());
      for (const auto& p : ps) {
        parts.push_back(b.point(p, z));
        if (!parts.back()) return nullptr;
      }
      return b.collection(GEOS_MULTIPOINT, std::move(parts), "a MultiPoint");
    }
    if (iequals(type, "MultiLineString")) {
      return multi(coords, where + "MultiLineString coordinates", GEOS_MULTILINESTRING, "a MultiLineString",
                   &geojson_reader::line);
    }
    if (iequals(type, "MultiPolygon")) {
      return multi(coords, where + "MultiPolygon coordinates", GEOS_MULTIPOLYGON, "a MultiPolygon",
                   &geojson_reader::polygon);
    }
    return fail(where + "unsupported GeoJSON geometry type " + quoted(type) + " (expected " + kGeoJsonTypes + ")");
  }

  // The geometry of a Feature: false when it is not a Feature; `out` is null
  // for a Feature whose geometry is null.
  bool feature(std::uint32_t node, const std::string& where, geom_ptr& out) {
    std::string_view type;
    if (!type_of(node, where, type)) return false;
    if (!iequals(type, "Feature")) {
      fail(where + "is a " + std::string(type.substr(0, kNameExcerpt)) + ", expected a Feature");
      return false;
    }
    const std::uint32_t g = t_.member(node, "geometry");
    if (g == json_tree::npos) {
      fail(where + "Feature has no \"geometry\" member");
      return false;
    }
    if (t_.at(g).type == json_type::null) {
      out.reset();
      return true;
    }
    out = geometry(g, where + "Feature geometry: ");
    return static_cast<bool>(out);
  }

  bool type_of(std::uint32_t node, const std::string& where, std::string_view& type) {
    if (t_.at(node).type != json_type::object) {
      fail(where + "is " + describe(t_.at(node).type) + ", expected a GeoJSON object");
      return false;
    }
    const std::uint32_t ty = t_.member(node, "type");
    if (ty == json_tree::npos || t_.at(ty).type != json_type::string) {
      fail(where + "the GeoJSON object has no string \"type\" (expected " + kGeoJsonTypes + ")");
      return false;
    }
    type = t_.at(ty).text;
    return true;
  }

  geom_ptr fail(std::string why) {
    b.error = std::move(why);
    return nullptr;
  }

 private:
  bool read_position(std::uint32_t node, position& p, bool& with_z, const std::string& where) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array || n.count < 2 || n.count > 3) {
      fail(where + ": a position must be an array of 2 or 3 numbers [x, y] or [x, y, z], found " +
           (n.type == json_type::array ? "an array of " + std::to_string(n.count) : std::string(describe(n.type))));
      return false;
    }
    double v[3] = {0, 0, 0};
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      const json_node& e = t_.at(c);
      if (e.type != json_type::number || !finite_number(e.text, v[i])) {
        fail(where + ": coordinate " +
             (e.type == json_type::number ? quoted(e.text, kValueExcerpt) : std::string(describe(e.type))) +
             " is not a finite number");
        return false;
      }
    }
    with_z = n.count == 3;
    b.saw(with_z);
    if (b.mixed()) {
      fail(where + ": the geometry mixes 2D and 3D positions");
      return false;
    }
    p = {v[0], v[1], v[2]};
    return true;
  }

  bool read_positions(std::uint32_t node, std::vector<position>& ps, bool& with_z, const std::string& where) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) {
      fail(where + " must be an array of positions, found " + describe(n.type));
      return false;
    }
    ps.reserve(n.count);
    with_z = b.has_z();
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next) {
      position p;
      if (!read_position(c, p, with_z, where)) return false;
      ps.push_back(p);
    }
    return true;
  }

  geom_ptr line(std::uint32_t node, const std::string& where) {
    std::vector<position> ps;
    bool z = false;
    if (!read_positions(node, ps, z, where)) return nullptr;
    if (ps.size() == 1) return fail(where + ": a LineString needs 0 or at least 2 positions, found 1");
    return b.line(ps, z);
  }

  geom_ptr polygon(std::uint32_t node, const std::string& where) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) return fail(where + " must be an array of rings, found " + describe(n.type));
    std::vector<geom_ptr> rings;
    rings.reserve(n.count);
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      std::vector<position> ps;
      bool z = false;
      const std::string ring_where = where + " ring " + std::to_string(i);
      if (!read_positions(c, ps, z, ring_where)) return nullptr;
      if (!ps.empty() && ps.size() < 4) {
        return fail(ring_where + ": a ring needs at least 4 positions, found " + std::to_string(ps.size()));
      }
      if (!ps.empty() && (ps.front().x != ps.back().x || ps.front().y != ps.back().y)) {
        return fail(ring_where + ": the ring is not closed (its last position must repeat the first)");
      }
      rings.push_back(b.ring(ps, z));
      if (!rings.back()) return nullptr;
    }
    return b.polygon(std::move(rings));
  }

  geom_ptr multi(std::uint32_t node, const std::string& where, int type, const char* what,
                 geom_ptr (geojson_reader::*part)(std::uint32_t, const std::string&)) {
    const json_node& n = t_.at(node);
    if (n.type != json_type::array) return fail(where + " must be an array, found " + describe(n.type));
    std::vector<geom_ptr> parts;
    parts.reserve(n.count);
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      parts.push_back((this->*part)(c, where + "[" + std::to_string(i) + "]"));
      if (!parts.back()) return nullptr;
    }
    return b.collection(type, std::move(parts), what);
  }

  const json_tree& t_;
};

result<value> geojson(const json_tree& t, std::uint32_t node) {
  geojson_reader r(t);
  std::string_view type;
  if (!r.type_of(node, "", type)) return make_error(r.b.error);
  geom_ptr g;
  if (iequals(type, "Feature")) {
    if (!r.feature(node, "", g)) return make_error(r.b.error);
    if (!g) return value::null();
  } else if (iequals(type, "FeatureCollection")) {
    const std::uint32_t fs = t.member(node, "features");
    if (fs == json_tree::npos || t.at(fs).type != json_type::array) {
      return make_error("a FeatureCollection needs a \"features\" array");
    }
    if (t.at(fs).count == 0) return make_error("the FeatureCollection has no features, so no geometry");
    std::vector<geom_ptr> parts;
    parts.reserve(t.at(fs).count);
    std::uint32_t i = 0;
    for (std::uint32_t c = json_tree::first_child(fs); c < t.at(fs).next; c = t.at(c).next, ++i) {
      geom_ptr part;
      if (!r.feature(c, "features[" + std::to_string(i) + "]: ", part)) return make_error(r.b.error);
      // A feature without geometry adds nothing to the collection.
      if (part) parts.push_back(std::move(part));
    }
    if (parts.empty()) return value::null();
    if (parts.size() == 1) {
      g = std::move(parts.front());
    } else {
      g = r.b.collection(GEOS_GEOMETRYCOLLECTION, std::move(parts), "a GeometryCollection");
      if (!g) return make_error(r.b.error);
    }
  } else {
    g = r.geometry(node, "");
    if (!g) return make_error(r.b.error);
  }
  return to_ewkb(std::move(g), r.b.has_z());
}

}  // namespace

bool is_geo_type(std::string_view ngsi_type) noexcept { return istarts_with(ngsi_type, "geo:"); }

result<value> geometry_value(std::string_view ngsi_type, const json_tree& tree, std::uint32_t node) {
  if (!geos().ready()) return make_error("GEOS could not be initialised, so no geometry can be built");
  const std::string_view subtype = ngsi_type.substr(4);
  if (iequals(subtype, "point")) return simple_point(tree, node);
  if (iequals(subtype, "json")) return geojson(tree, node);
  if (iequals(subtype, "line")) return simple_line(tree, node);
  if (iequals(subtype, "polygon")) return simple_polygon(tree, node);
  if (iequals(subtype, "box")) return simple_box(tree, node);
  return make_error("unsupported geometry type " + quoted(ngsi_type) +
                    "; supported: geo:point, geo:line, geo:box, geo:polygon, geo:json");
}

}  // namespace kafnus::ngsi
