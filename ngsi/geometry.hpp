#pragma once
// Geometry values of the geo:* NGSI types, validated and written as EWKB
// (little-endian, SRID 4326) in one walk of the value, byte for byte what
// PostGIS makes of the same geometry:
//   geo:point    "lat, lon"                     -> POINT(lon lat)  (NGSI is lat,lon; x is the longitude)
//   geo:line     ["lat,lon", …] (2+ points)     -> LINESTRING
//   geo:box      ["lat,lon", "lat,lon"]         -> the axis-aligned POLYGON with those corners
//   geo:polygon  ["lat,lon", …] (closed, 4+)    -> POLYGON
//   geo:json     a GeoJSON geometry (Point … MultiPolygon, GeometryCollection),
//                a Feature (its geometry; a null one gives NULL) or a
//                FeatureCollection (one feature: its geometry; several: a
//                GeometryCollection of them; none: an error)
// Positions may carry a Z (3D) coordinate. Coordinates must be finite numbers;
// the four simple types also check latitude in [-90, 90] and longitude in
// [-180, 180] (GeoJSON is taken as given, as PostGIS does).

#include <cstdint>
#include <string>
#include <string_view>

#include "ngsi/json_tree.hpp"
#include "ngsi/result.hpp"
#include "ngsi/value.hpp"
#include "text/ascii.hpp"

namespace kafnus::ngsi {

// Whether an NGSI type names a geometry: a "geo:" prefix in any case.
// Inline: asked of every attribute.
inline bool is_geo_type(std::string_view ngsi_type) noexcept { return text::istarts_with(ngsi_type, "geo:"); }

// The geometry of a geo:* attribute whose value is `node` (not JSON null),
// its EWKB written into `ewkb` (emptied first): value_kind::geometry, or
// value_kind::null for a Feature without one. An unknown subtype
// (geo:circle) is an error listing the supported ones. Errors say what is
// wrong with the value; the caller names the attribute.
result<value_kind> write_geometry(std::string_view ngsi_type, const json_tree& tree, std::uint32_t node,
                                  std::string& ewkb);

}  // namespace kafnus::ngsi
