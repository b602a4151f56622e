// The daemon writes geometries as EWKB it builds itself (ngsi/geometry):
// byte for byte what PostGIS's own GeoJSON reader makes of the same value,
// for every geometry type, 2D and 3D, holes, empties and nesting.

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "ngsi/geometry.hpp"
#include "ngsi/json_tree.hpp"
#include "ngsi/value.hpp"
#include "postgis/connection.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;

namespace kafnus::ngsi {
namespace {

std::string ours(const std::string& type, const std::string& json) {
  const auto tree = parse_json_object(R"({"v":)" + json + "}", 64);
  if (!tree) return "parse error: " + tree.err().message;
  std::string ewkb;
  const auto kind = write_geometry(type, *tree.value(), tree.value()->member(0, "v"), ewkb);
  if (!kind) return "error: " + kind.err().message;
  // As hex, like postgis() below.
  return input_text(kind.value() == value_kind::geometry ? value::geometry(std::move(ewkb)) : value::null());
}

std::string literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// PostGIS's EWKB (little-endian) of a geometry expression, as upper-case hex.
std::string postgis(kt::pg_client& pg, const std::string& expression) {
  return pg.scalar("SELECT upper(encode(ST_AsEWKB(ST_SetSRID(" + expression + ", 4326), 'NDR'), 'hex'))");
}

TEST(GeometryPostgis, GeoJsonIsWrittenByteForByteAsPostgisReadsIt) {
  kt::pg_client pg;
  // The longer samples are literals split over lines, not missing commas.
  // NOLINTBEGIN(bugprone-suspicious-missing-comma)
  const std::vector<std::string> samples = {
      R"({"type":"Point","coordinates":[-3.7038,40.4168]})",
      R"({"type":"Point","coordinates":[1.5,2.5,650.25]})",
      R"({"type":"Point","coordinates":[500000.5,4649776.2]})",
      R"({"type":"LineString","coordinates":[[-1.7038,1.4168],[-1.7028,1.4178]]})",
      R"({"type":"LineString","coordinates":[[0,0,1],[1,1,2],[2,0,3]]})",
      R"({"type":"LineString","coordinates":[]})",
      R"({"type":"Polygon","coordinates":[[[-1.704,1.4168],[-1.703,1.4175],[-1.702,1.4162],[-1.704,1.4168]]]})",
      R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[4,2],[2,2]]]})",
      R"({"type":"Polygon","coordinates":[[[0,0,5],[10,0,5],[10,10,5],[0,0,5]]]})",
      R"({"type":"Polygon","coordinates":[]})",
      R"({"type":"MultiPoint","coordinates":[[-1.7038,1.4168],[-1.7028,1.4178]]})",
      R"({"type":"MultiPoint","coordinates":[[1,2,3]]})",
      R"({"type":"MultiPoint","coordinates":[]})",
      R"({"type":"MultiLineString","coordinates":[[[-1.7038,1.4168],[-1.7028,1.4178]],[[-1.7018,1.4188],[-1.7008,1.4198]]]})",
      R"({"type":"MultiPolygon","coordinates":[[[[-1.704,1.4168],[-1.703,1.4175],[-1.702,1.4162],[-1.704,1.4168]]],)"
      R"([[[-1.714,1.4268],[-1.713,1.4275],[-1.712,1.4262],[-1.714,1.4268]],[[-1.7135,1.427],[-1.7134,1.427],)"
      R"([-1.7134,1.4271],[-1.7135,1.427]]]]})",
      R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},)"
      R"({"type":"LineString","coordinates":[[0,0],[1,1]]}]})",
      R"({"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[)"
      R"({"type":"Point","coordinates":[1,2,3]}]},{"type":"MultiPoint","coordinates":[[4,5,6]]}]})",
      R"({"type":"GeometryCollection","geometries":[]})",
  };
  // NOLINTEND(bugprone-suspicious-missing-comma)
  for (const auto& json : samples) {
    EXPECT_EQ(ours("geo:json", json), postgis(pg, "ST_GeomFromGeoJSON(" + literal(json) + ")")) << json;
  }
}

// Geometries of many positions: their bytes outgrow the writer's buffer
// several times over, with type codes still waiting for their Z flag and an
// empty outer ring dropped after bytes already left the buffer.
TEST(GeometryPostgis, LargeGeometriesAreWrittenByteForByteAsPostgisReadsThem) {
  kt::pg_client pg;
  const auto positions = [](int n, bool z, double shift) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
      if (i > 0) s += ",";
      s += "[" + std::to_string(shift + i * 0.125) + "," + std::to_string(40 - i * 0.25);
      if (z) s += "," + std::to_string(600 + i);
      s += "]";
    }
    return s + "]";
  };
  // A closed ring of n positions.
  const auto ring = [](int n, double shift) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += "[" + std::to_string(shift + (i % 2) * 0.5) + "," + std::to_string(i) + "],";
    return s + "[" + std::to_string(shift) + ",0]]";
  };
  const std::vector<std::string> samples = {
      R"({"type":"LineString","coordinates":)" + positions(100, false, -3) + "}",
      R"({"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":)" + positions(60, true, 1) +
          R"(},{"type":"MultiPoint","coordinates":)" + positions(30, true, 2) +
          R"(},{"type":"Point","coordinates":[7,8,9]}]})",
      R"({"type":"MultiPolygon","coordinates":[[)" + ring(40, 5) + "],[[]],[" + ring(12, 9) + "]]}",
  };
  for (const auto& json : samples) {
    EXPECT_EQ(ours("geo:json", json), postgis(pg, "ST_GeomFromGeoJSON(" + literal(json) + ")")) << json;
  }
}

TEST(GeometryPostgis, TheSimpleLocationFormatIsWrittenAsPostgisBuildsIt) {
  kt::pg_client pg;
  EXPECT_EQ(ours("geo:point", R"("40.4168, -3.7038")"), postgis(pg, "ST_MakePoint(-3.7038, 40.4168)"));
  EXPECT_EQ(ours("geo:line", R"(["40.41,-3.70","40.42,-3.71","40.43,-3.69"])"),
            postgis(pg, "'LINESTRING(-3.70 40.41, -3.71 40.42, -3.69 40.43)'::geometry"));
  EXPECT_EQ(ours("geo:polygon", R"(["0,0","0,10","10,10","0,0"])"),
            postgis(pg, "'POLYGON((0 0, 10 0, 10 10, 0 0))'::geometry"));
  // A box: counter-clockwise from the lower-left corner, closed.
  EXPECT_EQ(ours("geo:box", R"(["40.5,-3.6","40.3,-3.8"])"),
            postgis(pg, "'POLYGON((-3.8 40.3, -3.6 40.3, -3.6 40.5, -3.8 40.5, -3.8 40.3))'::geometry"));
}

}  // namespace
// Whether the PostGIS library is mapped into a session's backend process;
// nullopt when that process cannot be read (a PostgreSQL on another host).
std::optional<bool> postgis_mapped(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  const auto pid = tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  if (!maps) return std::nullopt;
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("postgis") != std::string::npos) return true;
  }
  return false;
}

TEST(GeometryPostgis, TheWriterLoadsPostgisAsItConnectsAndNothingWhereThereIsNone) {
  pqxx::connection with(kt::pg_connection_string());
  const auto before = postgis_mapped(with);
  if (before) {
    EXPECT_FALSE(*before) << "a fresh session has not loaded PostGIS yet";
  }
  EXPECT_TRUE(postgis::preload_postgis(with));
  if (const auto after = postgis_mapped(with)) {
    EXPECT_TRUE(*after) << "preload_postgis loaded the library";
  }

  // A session whose search_path finds no PostGIS: nothing loaded, no error,
  // and the session goes on.
  pqxx::connection without(kt::pg_connection_string() + " options='-c search_path=pg_catalog'");
  EXPECT_FALSE(postgis::preload_postgis(without));
  if (const auto mapped = postgis_mapped(without)) {
    EXPECT_FALSE(*mapped);
  }
  pqxx::nontransaction tx(without);
  EXPECT_EQ(tx.exec("SELECT 1")[0][0].as<int>(), 1);
}

}  // namespace kafnus::ngsi
