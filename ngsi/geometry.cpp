#include "ngsi/geometry.hpp"

#include <geos_c.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <vector>

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

using simdjson::dom::element;

// One GEOS context per thread (GEOS contexts are not thread-safe); its
// error handler keeps the last message for our error values.
struct geos_context {
  GEOSContextHandle_t h;
  GEOSWKBWriter* writer;
  std::string last_error;

  geos_context() : h(GEOS_init_r()) {
    GEOSContext_setErrorMessageHandler_r(h, &on_error, this);
    writer = GEOSWKBWriter_create_r(h);
    GEOSWKBWriter_setIncludeSRID_r(h, writer, 1);
    GEOSWKBWriter_setOutputDimension_r(h, writer, 3);  // 3 only when the geometry has Z
    GEOSWKBWriter_setByteOrder_r(h, writer, GEOS_WKB_NDR);
  }
  ~geos_context() {
    GEOSWKBWriter_destroy_r(h, writer);
    GEOS_finish_r(h);
  }
  geos_context(const geos_context&) = delete;
  geos_context& operator=(const geos_context&) = delete;

  static void on_error(const char* message, void* self) { static_cast<geos_context*>(self)->last_error = message; }
};

geos_context& ctx() {
  thread_local geos_context c;
  return c;
}

struct geom_deleter {
  void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(ctx().h, g); }
};
using geom_ptr = std::unique_ptr<GEOSGeometry, geom_deleter>;

// A position: x = longitude, y = latitude, optional z.
struct position {
  double x, y, z;
  bool has_z;
};

// Parsing GeoJSON / NGSI coordinates into GEOS geometries. Errors are thrown
// as this type internally and returned as error values at the boundary.
struct geo_error {
  std::string message;
};

[[noreturn]] void fail(std::string m) { throw geo_error{std::move(m)}; }

void check_range(const position& p) {
  if (!std::isfinite(p.x) || !std::isfinite(p.y) || (p.has_z && !std::isfinite(p.z))) {
    fail("coordinates must be finite numbers");
  }
  if (p.x < -180 || p.x > 180) fail("longitude " + std::to_string(p.x) + " is outside [-180, 180]");
  if (p.y < -90 || p.y > 90) fail("latitude " + std::to_string(p.y) + " is outside [-90, 90]");
}

double number(element e, const char* what) {
  double d;
  int64_t i;
  uint64_t u;
  if (!e.get(d)) return d;
  if (!e.get(i)) return static_cast<double>(i);
  if (!e.get(u)) return static_cast<double>(u);
  fail(std::string(what) + " must be a number");
}

// "lat, lon" -> position
position lat_lon(std::string_view text) {
  auto comma = text.find(',');
  if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos) {
    fail("expected \"latitude, longitude\", got \"" + excerpt(text, 60) + "\"");
  }
  auto parse = [&](std::string_view part) {
    part = trim(part);
    double v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size()) {
      fail("\"" + excerpt(part, 40) + "\" is not a number");
    }
    return v;
  };
  position p{parse(text.substr(comma + 1)), parse(text.substr(0, comma)), 0, false};
  check_range(p);
  return p;
}

position geojson_position(element e) {
  simdjson::dom::array a;
  if (e.get(a)) fail("a position must be an array of numbers");
  const auto n = a.size();
  if (n < 2 || n > 4) fail("a position must have 2 or 3 numbers, found " + std::to_string(n));
  position p{number(a.at(0), "a coordinate"), number(a.at(1), "a coordinate"), 0, false};
  if (n >= 3) {
    p.z = number(a.at(2), "a coordinate");
    p.has_z = true;
  }
  check_range(p);
  return p;
}

GEOSCoordSequence* sequence(const std::vector<position>& ps) {
  const bool z = !ps.empty() && ps.front().has_z;
  for (const auto& p : ps) {
    if (p.has_z != z) fail("positions mix 2 and 3 dimensions");
  }
  auto* seq = GEOSCoordSeq_create_r(ctx().h, static_cast<unsigned>(ps.size()), z ? 3 : 2);
  if (!seq) fail("cannot create a coordinate sequence: " + ctx().last_error);
  for (unsigned i = 0; i < ps.size(); ++i) {
    if (z) {
      GEOSCoordSeq_setXYZ_r(ctx().h, seq, i, ps[i].x, ps[i].y, ps[i].z);
    } else {
      GEOSCoordSeq_setXY_r(ctx().h, seq, i, ps[i].x, ps[i].y);
    }
  }
  return seq;
}

geom_ptr checked(GEOSGeometry* g, const char* what) {
  if (!g) fail(std::string("invalid ") + what + ": " + ctx().last_error);
  return geom_ptr(g);
}

geom_ptr make_point(const position& p) { return checked(GEOSGeom_createPoint_r(ctx().h, sequence({p})), "point"); }

geom_ptr make_line(const std::vector<position>& ps) {
  if (ps.size() < 2) fail("a line needs at least 2 positions, found " + std::to_string(ps.size()));
  return checked(GEOSGeom_createLineString_r(ctx().h, sequence(ps)), "line");
}

geom_ptr make_ring(const std::vector<position>& ps) {
  if (ps.size() < 4) fail("a polygon ring needs at least 4 positions, found " + std::to_string(ps.size()));
  const auto &a = ps.front(), &b = ps.back();
  if (a.x != b.x || a.y != b.y || (a.has_z && a.z != b.z)) {
    fail("a polygon ring must be closed (its last position equal to its first)");
  }
  return checked(GEOSGeom_createLinearRing_r(ctx().h, sequence(ps)), "polygon ring");
}

geom_ptr make_polygon(std::vector<geom_ptr> rings) {
  if (rings.empty()) fail("a polygon needs at least one ring");
  std::vector<GEOSGeometry*> holes;
  for (std::size_t i = 1; i < rings.size(); ++i) holes.push_back(rings[i].release());
  return checked(GEOSGeom_createPolygon_r(ctx().h, rings[0].release(), holes.data(),
                                          static_cast<unsigned>(holes.size())),
                 "polygon");
}

geom_ptr make_collection(int type, std::vector<geom_ptr> parts) {
  std::vector<GEOSGeometry*> raw;
  for (auto& p : parts) raw.push_back(p.release());
  return checked(GEOSGeom_createCollection_r(ctx().h, type, raw.data(), static_cast<unsigned>(raw.size())),
                 "geometry collection");
}

std::vector<position> positions(element e) {
  simdjson::dom::array a;
  if (e.get(a)) fail("coordinates must be an array of positions");
  std::vector<position> out;
  for (auto p : a) out.push_back(geojson_position(p));
  return out;
}

geom_ptr polygon_from(element coords) {
  simdjson::dom::array rings;
  if (coords.get(rings)) fail("Polygon coordinates must be an array of rings");
  std::vector<geom_ptr> out;
  for (auto r : rings) out.push_back(make_ring(positions(r)));
  return make_polygon(std::move(out));
}

std::optional<geom_ptr> from_geojson(element g, int depth);

geom_ptr geometry_object(element g, int depth) {
  if (depth > 32) fail("GeoJSON nested too deeply");
  std::string_view type;
  if (g["type"].get(type)) fail("a GeoJSON object needs a string \"type\"");
  if (type == "GeometryCollection") {
    simdjson::dom::array members;
    if (g["geometries"].get(members)) fail("a GeometryCollection needs a \"geometries\" array");
    std::vector<geom_ptr> parts;
    for (auto m : members) parts.push_back(geometry_object(m, depth + 1));
    return make_collection(GEOS_GEOMETRYCOLLECTION, std::move(parts));
  }
  element coords;
  if (g["coordinates"].get(coords)) fail("a " + std::string(type) + " needs \"coordinates\"");
  if (type == "Point") return make_point(geojson_position(coords));
  if (type == "LineString") return make_line(positions(coords));
  if (type == "Polygon") return polygon_from(coords);
  simdjson::dom::array items;
  if (coords.get(items)) fail("coordinates of a " + std::string(type) + " must be an array");
  std::vector<geom_ptr> parts;
  if (type == "MultiPoint") {
    for (auto p : items) parts.push_back(make_point(geojson_position(p)));
    return make_collection(GEOS_MULTIPOINT, std::move(parts));
  }
  if (type == "MultiLineString") {
    for (auto l : items) parts.push_back(make_line(positions(l)));
    return make_collection(GEOS_MULTILINESTRING, std::move(parts));
  }
  if (type == "MultiPolygon") {
    for (auto p : items) parts.push_back(polygon_from(p));
    return make_collection(GEOS_MULTIPOLYGON, std::move(parts));
  }
  fail("unknown GeoJSON type \"" + excerpt(type, 40) +
       "\"; expected Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon, GeometryCollection, "
       "Feature or FeatureCollection");
}

// nullopt: a Feature whose geometry is null.
std::optional<geom_ptr> from_geojson(element g, int depth) {
  std::string_view type;
  if (g["type"].get(type)) fail("a GeoJSON object needs a string \"type\"");
  if (type == "Feature") {
    element geometry;
    if (g["geometry"].get(geometry)) fail("a Feature needs a \"geometry\" member");
    if (geometry.is_null()) return std::nullopt;
    return geometry_object(geometry, depth + 1);
  }
  if (type == "FeatureCollection") {
    simdjson::dom::array features;
    if (g["features"].get(features)) fail("a FeatureCollection needs a \"features\" array");
    std::vector<geom_ptr> parts;
    for (auto f : features) {
      std::string_view ft;
      if (f["type"].get(ft) || ft != "Feature") fail("every member of \"features\" must be a Feature");
      if (auto p = from_geojson(f, depth + 1)) parts.push_back(std::move(*p));
    }
    if (parts.empty()) fail("the FeatureCollection has no feature with a geometry");
    if (parts.size() == 1) return std::move(parts.front());
    return make_collection(GEOS_GEOMETRYCOLLECTION, std::move(parts));
  }
  return geometry_object(g, depth);
}

std::vector<position> lat_lon_list(element value, const char* what) {
  simdjson::dom::array a;
  if (value.get(a)) fail(std::string(what) + " must be an array of \"latitude, longitude\" strings");
  std::vector<position> out;
  for (auto item : a) {
    std::string_view s;
    if (item.get(s)) fail(std::string(what) + " must be an array of \"latitude, longitude\" strings");
    out.push_back(lat_lon(s));
  }
  return out;
}

std::string to_hex_ewkb(const geom_ptr& g) {
  auto& c = ctx();
  GEOSSetSRID_r(c.h, g.get(), 4326);
  std::size_t size = 0;
  unsigned char* hex = GEOSWKBWriter_writeHEX_r(c.h, c.writer, g.get(), &size);
  if (!hex) fail("cannot encode the geometry: " + c.last_error);
  std::string out(reinterpret_cast<const char*>(hex), size);
  GEOSFree_r(c.h, hex);
  return out;
}

}  // namespace

result<std::optional<std::string>> geometry_from_ngsi(std::string_view subtype, std::string_view json_value) {
  thread_local simdjson::dom::parser parser;
  try {
    element value;
    if (auto err = parser.parse(json_value.data(), json_value.size()).get(value)) {
      fail(std::string("the value is not valid JSON: ") + simdjson::error_message(err));
    }
    if (value.is_null()) return std::optional<std::string>{};
    geom_ptr g;
    if (subtype == "point") {
      std::string_view s;
      if (value.get(s)) fail("a geo:point value must be a \"latitude, longitude\" string");
      g = make_point(lat_lon(s));
    } else if (subtype == "line") {
      g = make_line(lat_lon_list(value, "a geo:line value"));
    } else if (subtype == "polygon") {
      std::vector<geom_ptr> rings;
      rings.push_back(make_ring(lat_lon_list(value, "a geo:polygon value")));
      g = make_polygon(std::move(rings));
    } else if (subtype == "box") {
      auto corners = lat_lon_list(value, "a geo:box value");
      if (corners.size() != 2) fail("a geo:box value needs exactly 2 corners, found " + std::to_string(corners.size()));
      const auto &lo = corners[0], &hi = corners[1];
      std::vector<geom_ptr> rings;
      rings.push_back(make_ring({{lo.x, lo.y, 0, false},
                                 {hi.x, lo.y, 0, false},
                                 {hi.x, hi.y, 0, false},
                                 {lo.x, hi.y, 0, false},
                                 {lo.x, lo.y, 0, false}}));
      g = make_polygon(std::move(rings));
    } else if (subtype == "json") {
      simdjson::dom::object o;
      if (value.get(o)) fail("a geo:json value must be a GeoJSON object");
      auto maybe = from_geojson(value, 0);
      if (!maybe) return std::optional<std::string>{};
      g = std::move(*maybe);
    } else {
      fail("unsupported geometry type geo:" + excerpt(subtype, 40) +
           "; supported: geo:point, geo:line, geo:box, geo:polygon, geo:json");
    }
    return std::optional<std::string>(to_hex_ewkb(g));
  } catch (const geo_error& e) {
    return make_error(e.message);
  }
}

}  // namespace kafnus::ngsi
