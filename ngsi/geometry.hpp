#pragma once
// Geometry values of the geo:* NGSI attribute types, built with GEOS and
// written as hex EWKB with SRID 4326:
//   geo:point   "lat, lon"                    -> POINT(lon lat)  (NGSI is lat,lon; WKB x,y is lon,lat)
//   geo:line    ["lat,lon", …] (2+)           -> LINESTRING
//   geo:box     ["lat,lon", "lat,lon"]        -> axis-aligned POLYGON of the two corners
//   geo:polygon ["lat,lon", …] (closed, 4+)   -> POLYGON
//   geo:json    a GeoJSON geometry (any type, GeometryCollection too), a
//               Feature (its geometry; a null one gives NULL) or a
//               FeatureCollection (one feature: its geometry; several: a
//               GeometryCollection of them)
// Coordinates must be finite, longitude in [-180, 180] and latitude in
// [-90, 90]; anything else is an error naming what is wrong.

#include <optional>
#include <string>
#include <string_view>

#include "ngsi/result.hpp"

namespace kafnus::ngsi {

// `subtype` is what follows "geo:" in the NGSI type, lower-cased ("point",
// "json", …). `json_value` is the attribute value as compact JSON text.
// nullopt in the result: the value stands for no geometry (SQL NULL).
result<std::optional<std::string>> geometry_from_ngsi(std::string_view subtype, std::string_view json_value);

}  // namespace kafnus::ngsi
