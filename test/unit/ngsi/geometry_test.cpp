// geo:* attributes -> EWKB with SRID 4326, checked here as hex, decoded by hand.

#include <cstdint>
#include <cstring>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using ::testing::HasSubstr;
using testing::type_one;

// A minimal EWKB reader: enough to check what the writer produced.
class ewkb {
 public:
  explicit ewkb(const std::string& hex) {
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes_.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
  }
  std::size_t size() const { return bytes_.size(); }
  std::uint8_t byte(std::size_t at) const { return bytes_.at(at); }
  std::uint32_t u32(std::size_t at) const {
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | bytes_.at(at + static_cast<std::size_t>(k));
    return v;
  }
  double f64(std::size_t at) const {
    std::uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = (v << 8) | bytes_.at(at + static_cast<std::size_t>(k));
    double d = 0;
    std::memcpy(&d, &v, sizeof d);
    return d;
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

constexpr std::uint32_t kSridFlag = 0x20000000;
constexpr std::uint32_t kZFlag = 0x80000000;

// The value with its EWKB bytes as hex (input_text), as the checks below
// spell them.
value geometry_of(const std::string& type, const std::string& value_json) {
  const auto t = type_one(type, value_json, "location");
  EXPECT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.val.kind, value_kind::geometry) << to_string(t.val.kind);
  auto v = t.val;
  v.text = input_text(v);
  return v;
}

std::string geometry_error(const std::string& type, const std::string& value_json) {
  const auto t = type_one(type, value_json, "location");
  EXPECT_FALSE(t.ok) << type << " " << value_json << " gave " << t.val.text;
  return t.error;
}

TEST(Geometry, PointHexDecodedByHand) {
  // POINT(-3.7 40.4) SRID 4326: little-endian marker 01, type 1 | SRID flag,
  // SRID 4326 (E6100000), then x = longitude, y = latitude.
  const auto v = geometry_of("geo:point", "\"40.4, -3.7\"");
  EXPECT_EQ(v.text,
            "0101000020E6100000"
            "9A99999999990DC0"
            "3333333333334440");
  const ewkb g(v.text);
  EXPECT_EQ(g.byte(0), 1);
  EXPECT_EQ(g.u32(1), kSridFlag | 1u);
  EXPECT_EQ(g.u32(5), 4326u);
  EXPECT_DOUBLE_EQ(g.f64(9), -3.7);
  EXPECT_DOUBLE_EQ(g.f64(17), 40.4);
}

TEST(Geometry, PointCornerHexDecodedByHand) {
  // POINT(180 90): 180.0 = 0x4066800000000000, 90.0 = 0x4056800000000000.
  EXPECT_EQ(geometry_of("geo:point", "\"90,180\"").text,
            "0101000020E6100000"
            "0000000000806640"
            "0000000000805640");
}

TEST(Geometry, HexIsUpperCase) {
  const auto v = geometry_of("geo:point", "\"-33.8688, 151.2093\"");
  for (char c : v.text) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << v.text;
}

TEST(Geometry, PointToleratesSpacesAndSigns) {
  const auto a = geometry_of("geo:point", "\"40.4,-3.7\"").text;
  EXPECT_EQ(geometry_of("geo:point", "\"  40.4 ,   -3.7  \"").text, a);
  EXPECT_EQ(geometry_of("geo:point", "\"+40.4,-3.7\"").text, a);
  EXPECT_EQ(geometry_of("geo:point", "\"40.40000,-3.70\"").text, a);
}

TEST(Geometry, TypePrefixIsCaseInsensitive) {
  const auto a = geometry_of("geo:point", "\"1,2\"").text;
  EXPECT_EQ(geometry_of("GEO:POINT", "\"1,2\"").text, a);
  EXPECT_EQ(geometry_of("Geo:Point", "\"1,2\"").text, a);
  EXPECT_EQ(geometry_of("Geo:Json", R"({"type":"Point","coordinates":[2,1]})").text, a);
}

TEST(Geometry, LatitudeAndLongitudeBoundaries) {
  for (const char* ok : {"\"90,180\"", "\"-90,-180\"", "\"90,-180\"", "\"-90,180\"", "\"0,0\"", "\"-0,-0\""}) {
    geometry_of("geo:point", ok);
  }
  EXPECT_THAT(geometry_error("geo:point", "\"90.0000001,0\""), HasSubstr("latitude 90.0000001 is outside [-90, 90]"));
  EXPECT_THAT(geometry_error("geo:point", "\"-90.0000001,0\""), HasSubstr("latitude"));
  EXPECT_THAT(geometry_error("geo:point", "\"0,180.0000001\""), HasSubstr("longitude 180.0000001 is outside"));
  EXPECT_THAT(geometry_error("geo:point", "\"0,-180.5\""), HasSubstr("longitude"));
}

TEST(Geometry, InvalidPointsNameTheAttribute) {
  for (const char* bad : {"\"abc,1\"", "\"1,abc\"", "\"1\"", "\"1,2,3\"", "\"\"", "\",\"", "\"NaN,1\"", "\"1,inf\"",
                          "\"1e400,1\"", "\"1;2\"", "\"0x10,1\"", "\"1 2,3\""}) {
    const auto e = geometry_error("geo:point", bad);
    EXPECT_THAT(e, HasSubstr("'location'")) << bad;
    EXPECT_THAT(e, HasSubstr("geo:point")) << bad;
  }
  EXPECT_THAT(geometry_error("geo:point", "[40.4, -3.7]"), HasSubstr("expected a string \"lat,lon\""));
  EXPECT_THAT(geometry_error("geo:point", "{\"lat\":1}"), HasSubstr("an object"));
}

TEST(Geometry, Line) {
  const ewkb g(geometry_of("geo:line", R"(["40.0,-3.0", "41.0, -4.0", "42,-5"])").text);
  EXPECT_EQ(g.u32(1), kSridFlag | 2u);
  EXPECT_EQ(g.u32(9), 3u);
  EXPECT_DOUBLE_EQ(g.f64(13), -3.0);
  EXPECT_DOUBLE_EQ(g.f64(21), 40.0);
  EXPECT_DOUBLE_EQ(g.f64(45), -5.0);
  EXPECT_DOUBLE_EQ(g.f64(53), 42.0);
  EXPECT_THAT(geometry_error("geo:line", R"(["40,-3"])"), HasSubstr("at least 2 points"));
  EXPECT_THAT(geometry_error("geo:line", R"(["40,-3", 5])"), HasSubstr("element 1"));
  EXPECT_THAT(geometry_error("geo:line", R"("40,-3")"), HasSubstr("expected an array"));
  EXPECT_THAT(geometry_error("geo:line", R"(["40,-3", "91,0"])"), HasSubstr("latitude 91"));
}

TEST(Geometry, BoxIsAnAxisAlignedPolygon) {
  const ewkb g(geometry_of("geo:box", R"(["40.0,-4.0", "41.0,-3.0"])").text);
  EXPECT_EQ(g.u32(1), kSridFlag | 3u);
  EXPECT_EQ(g.u32(9), 1u);   // one ring
  EXPECT_EQ(g.u32(13), 5u);  // closed: five points
  const double expected[5][2] = {{-4, 40}, {-3, 40}, {-3, 41}, {-4, 41}, {-4, 40}};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(g.f64(17 + 16 * i), expected[i][0]) << i;
    EXPECT_DOUBLE_EQ(g.f64(25 + 16 * i), expected[i][1]) << i;
  }
  // Corners in any order give the same box.
  EXPECT_EQ(geometry_of("geo:box", R"(["41.0,-3.0", "40.0,-4.0"])").text,
            geometry_of("geo:box", R"(["40.0,-4.0", "41.0,-3.0"])").text);
  EXPECT_THAT(geometry_error("geo:box", R"(["40,-4"])"), HasSubstr("exactly 2 corners"));
  EXPECT_THAT(geometry_error("geo:box", R"(["40,-4","41,-3","42,-2"])"), HasSubstr("exactly 2 corners"));
}

TEST(Geometry, Polygon) {
  const ewkb g(geometry_of("geo:polygon", R"(["40,-4", "40,-3", "41,-3", "40,-4"])").text);
  EXPECT_EQ(g.u32(1), kSridFlag | 3u);
  EXPECT_EQ(g.u32(13), 4u);
  EXPECT_DOUBLE_EQ(g.f64(17), -4.0);
  EXPECT_DOUBLE_EQ(g.f64(25), 40.0);
}

TEST(Geometry, PolygonMustBeClosedWithFourPoints) {
  EXPECT_THAT(geometry_error("geo:polygon", R"(["40,-4", "40,-3", "41,-3", "41,-4"])"), HasSubstr("not closed"));
  EXPECT_THAT(geometry_error("geo:polygon", R"(["40,-4", "40,-3", "40,-4"])"), HasSubstr("at least 4 points"));
  EXPECT_THAT(geometry_error("geo:polygon", R"([])"), HasSubstr("at least 4 points"));
}

TEST(Geometry, PolygonOf21VerticesAsInTheLimitsCase) {
  std::string ring = "[";
  for (int i = 0; i < 20; ++i) ring += "\"" + std::to_string(i % 2 ? 10 : -10) + "," + std::to_string(i) + "\",";
  ring += "\"-10,0\"]";
  const ewkb g(geometry_of("geo:polygon", ring).text);
  EXPECT_EQ(g.u32(13), 21u);
}

TEST(Geometry, GeoJsonPoint2DAnd3D) {
  EXPECT_EQ(geometry_of("geo:json", R"({"type":"Point","coordinates":[-3.7,40.4]})").text,
            geometry_of("geo:point", "\"40.4,-3.7\"").text);
  const ewkb g(geometry_of("geo:json", R"({"type":"Point","coordinates":[1.5,2.5,650.25]})").text);
  EXPECT_EQ(g.u32(1), kZFlag | kSridFlag | 1u);
  EXPECT_EQ(g.u32(5), 4326u);
  EXPECT_DOUBLE_EQ(g.f64(9), 1.5);
  EXPECT_DOUBLE_EQ(g.f64(17), 2.5);
  EXPECT_DOUBLE_EQ(g.f64(25), 650.25);
}

TEST(Geometry, GeoJsonIsNotRangeChecked) {
  // GeoJSON is taken as given, as PostGIS does (the column's SRID decides).
  geometry_of("geo:json", R"({"type":"Point","coordinates":[500000.5,4649776.2]})");
}

TEST(Geometry, GeoJsonEveryGeometryType) {
  struct sample {
    const char* json;
    std::uint32_t type;
  };
  for (
      const auto& s : std::vector<sample>{
          {R"({"type":"LineString","coordinates":[[-1.7038,1.4168],[-1.7028,1.4178]]})", 2},
          {R"({"type":"Polygon","coordinates":[[[-1.704,1.4168],[-1.703,1.4175],[-1.702,1.4162],[-1.704,1.4168]]]})",
           3},
          {R"({"type":"MultiPoint","coordinates":[[-1.7038,1.4168],[-1.7028,1.4178]]})", 4},
          {R"({"type":"MultiLineString","coordinates":[[[-1.7038,1.4168],[-1.7028,1.4178]],[[-1.7018,1.4188],[-1.7008,1.4198]]]})",
           5},
          {R"({"type":"MultiPolygon","coordinates":[[[[-1.704,1.4168],[-1.703,1.4175],[-1.702,1.4162],[-1.704,1.4168]]],[[[-1.714,1.4268],[-1.713,1.4275],[-1.712,1.4262],[-1.714,1.4268]]]]})",
           6},
          {R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[[0,0],[1,1]]}]})",
           7},
      }) {
    const ewkb g(geometry_of("geo:json", s.json).text);
    EXPECT_EQ(g.u32(1), kSridFlag | s.type) << s.json;
    EXPECT_EQ(g.u32(5), 4326u);
  }
}

TEST(Geometry, GeoJsonPolygonWithHole) {
  const ewkb g(geometry_of("geo:json", R"({"type":"Polygon","coordinates":[
      [[0,0],[10,0],[10,10],[0,10],[0,0]],
      [[2,2],[2,4],[4,4],[4,2],[2,2]]]})")
                   .text);
  EXPECT_EQ(g.u32(9), 2u);
}

TEST(Geometry, GeoJsonNestedGeometryCollection) {
  const ewkb g(geometry_of("geo:json", R"({"type":"GeometryCollection","geometries":[
      {"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]},
      {"type":"MultiPoint","coordinates":[]}]})")
                   .text);
  EXPECT_EQ(g.u32(1), kSridFlag | 7u);
  EXPECT_EQ(g.u32(9), 2u);
}

TEST(Geometry, FeatureGivesItsGeometry) {
  EXPECT_EQ(geometry_of("geo:json", R"({"type":"Feature","geometry":{"type":"Point","coordinates":[-3.7038,3.4168]},
                                       "properties":{"info":"main point"}})")
                .text,
            geometry_of("geo:json", R"({"type":"Point","coordinates":[-3.7038,3.4168]})").text);
}

TEST(Geometry, FeatureWithNullGeometryIsNull) {
  const auto t = type_one("geo:json", R"({"type":"Feature","geometry":null,"properties":{}})");
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.val.kind, value_kind::null);
}

TEST(Geometry, FeatureCollectionOfOneGivesThatGeometry) {
  const char* polygon =
      R"({"type":"Polygon","coordinates":[[[-3.704,3.4168],[-3.703,3.4175],[-3.702,3.4162],[-3.704,3.4168]]]})";
  EXPECT_EQ(
      geometry_of("geo:json", std::string(R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":)") +
                                  polygon + R"(,"properties":{"level":"A"}}]})")
          .text,
      geometry_of("geo:json", polygon).text);
}

TEST(Geometry, FeatureCollectionOfSeveralGivesAGeometryCollection) {
  const ewkb g(geometry_of("geo:json", R"({"type":"FeatureCollection","features":[
      {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},
      {"type":"Feature","geometry":null,"properties":{}},
      {"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{}}]})")
                   .text);
  EXPECT_EQ(g.u32(1), kSridFlag | 7u);
  EXPECT_EQ(g.u32(9), 2u);  // the null geometry adds nothing
}

TEST(Geometry, FeatureCollectionEdgeCases) {
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"FeatureCollection","features":[]})"), HasSubstr("no features"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"FeatureCollection"})"), HasSubstr("\"features\" array"));
  EXPECT_THAT(
      geometry_error("geo:json", R"({"type":"FeatureCollection","features":[{"type":"Point","coordinates":[1,2]}]})"),
      HasSubstr("expected a Feature"));
  const auto all_null =
      type_one("geo:json", R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}]})");
  ASSERT_TRUE(all_null.ok) << all_null.error;
  EXPECT_EQ(all_null.val.kind, value_kind::null);
}

TEST(Geometry, GeoJsonErrorsNameTheProblem) {
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point","coordinates":[[1,2]]})"), HasSubstr("coordinate"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point","coordinates":[1]})"), HasSubstr("2 or 3 numbers"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point","coordinates":[1,2,3,4]})"), HasSubstr("2 or 3 numbers"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point","coordinates":["1","2"]})"),
              HasSubstr("not a finite number"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point","coordinates":[1e400,2]})"),
              HasSubstr("'1e400' is not a finite number"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Point"})"), HasSubstr("no \"coordinates\""));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Circle","coordinates":[1,2]})"),
              HasSubstr("unsupported GeoJSON geometry type 'Circle'"));
  EXPECT_THAT(geometry_error("geo:json", R"({"coordinates":[1,2]})"), HasSubstr("no string \"type\""));
  EXPECT_THAT(geometry_error("geo:json", "\"POINT (1 2)\""), HasSubstr("expected a GeoJSON object"));
  EXPECT_THAT(geometry_error("geo:json", R"([1,2])"), HasSubstr("expected a GeoJSON object"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"LineString","coordinates":[[0,0,0],[1,1]]})"),
              HasSubstr("mixes 2D and 3D"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"LineString","coordinates":[[0,0]]})"),
              HasSubstr("at least 2 positions"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})"),
              HasSubstr("not closed"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]})"),
              HasSubstr("at least 4 positions"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Polygon","coordinates":[[],[[0,0],[1,0],[1,1],[0,0]]]})"),
              HasSubstr("outer ring is empty"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"MultiPolygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})"),
              HasSubstr("MultiPolygon"));
  EXPECT_THAT(
      geometry_error("geo:json", R"({"type":"GeometryCollection","geometries":[{"type":"Feature","geometry":null}]})"),
      HasSubstr("geometries[0]"));
  EXPECT_THAT(geometry_error("geo:json", R"({"type":"Feature"})"), HasSubstr("no \"geometry\""));
}

// A GeoJSON error names the part it is in, however deep: the operator finds
// the feature, the geometry, the ring and the position from the message.
TEST(Geometry, AGeoJsonErrorNamesThePartItIsIn) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[1,1]]]})",
       "Polygon coordinates ring 1: a ring needs at least 4 positions, found 2"},
      {R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,1],[0,1]]]]})",
       "MultiPolygon coordinates[1] ring 0: the ring is not closed (its last position must repeat the first)"},
      {R"({"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[0,0]]]})",
       "MultiLineString coordinates[1]: a LineString needs 0 or at least 2 positions, found 1"},
      {R"({"type":"MultiPoint","coordinates":[[0,0],[1,"x"]]})",
       "MultiPoint coordinates: coordinate a string is not a finite number"},
      {R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}},)"
       R"({"type":"Feature","geometry":{"type":"Point","coordinates":[1]}}]})",
       "features[1]: Feature geometry: Point coordinates: a position must be an array of 2 or 3 numbers [x, y] or "
       "[x, y, z], found an array of 1"},
      {R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":null},{"type":"Point"}]})",
       "features[1]: is a Point, expected a Feature"},
      {R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},)"
       R"({"type":"GeometryCollection","geometries":[{"type":"LineString"}]}]})",
       "geometries[1]: geometries[0]: LineString has no \"coordinates\""},
      {R"({"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0,1]]]}})",
       "Feature geometry: Polygon coordinates ring 0: the geometry mixes 2D and 3D positions"},
  };
  for (const auto& [json, message] : cases) {
    EXPECT_THAT(geometry_error("geo:json", json), HasSubstr(message)) << json;
  }
}

TEST(Geometry, EmptyGeometriesAreValid) {
  for (const char* json :
       {R"({"type":"LineString","coordinates":[]})", R"({"type":"Polygon","coordinates":[]})",
        R"({"type":"MultiPoint","coordinates":[]})", R"({"type":"GeometryCollection","geometries":[]})"}) {
    geometry_of("geo:json", json);
  }
}

TEST(Geometry, UnknownSubtypeListsTheSupportedOnes) {
  const auto e = geometry_error("geo:circle", R"({"center":"1,2","radius":3})");
  EXPECT_THAT(e, HasSubstr("'geo:circle'"));
  EXPECT_THAT(e, HasSubstr("geo:point, geo:line, geo:box, geo:polygon, geo:json"));
  EXPECT_FALSE(type_one("geo:", "\"1,2\"").ok);
}

TEST(Geometry, NonGeoTypesNamedLikeGeometriesAreJson) {
  // "Polygon" is not a geo: type: its GeoJSON object is plain JSON.
  const auto t = type_one("Polygon", R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})");
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.val.kind, value_kind::json);
  const auto geo_like = type_one("geopoint", "\"1,2\"");
  ASSERT_TRUE(geo_like.ok);
  EXPECT_EQ(geo_like.val.kind, value_kind::text);
}

TEST(Geometry, ManyGeometriesOnOneThreadReuseTheContext) {
  for (int i = 0; i < 2000; ++i) {
    const auto lat = std::to_string(-89 + i % 179);
    geometry_of("geo:point", "\"" + lat + "," + std::to_string(i % 360 - 180) + "\"");
  }
}

}  // namespace
}  // namespace kafnus::ngsi
