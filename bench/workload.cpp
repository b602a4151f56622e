#include "bench/workload.hpp"

#include "test/support/notifications.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>

namespace kafnus::bench {
namespace {

const char* const kServices[] = {"smartcity", "environment", "mobility", "energy", "water", "waste"};
const char* const kPaths[] = {"/north", "/south", "/centre", "/east", "/west"};
const char* const kTypes[] = {"ParkingSpot",   "WeatherObserved", "AirQualityObserved",
                              "Streetlight",   "TrafficFlow",     "NoiseLevel",
                              "WaterQuality",  "WasteContainer",  "EnergyMeter",
                              "Bus",           "BikeStation",     "ChargingPoint",
                              "Sensor",        "Device",          "Building",
                              "Camera",        "FloodSensor",     "Irrigation",
                              "PublicToilet",  "Beach",           "Tree",
                              "GasMeter",      "Elevator",        "DoorSensor",
                              "SmokeDetector", "Thermostat",      "Pump",
                              "Valve"};

// Splitmix64: a stateless, seedable hash so notification i is reproducible
// without generating 0..i-1.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr long long kStart = 1767225600;  // TimeInstants count from 2026-01-01T00:00:00Z

double unit(std::uint64_t h) { return static_cast<double>(h >> 11) / 9007199254740992.0; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

workload::workload(workload_options o) : o_(o) {
  const int services = std::min<int>(o.services, static_cast<int>(std::size(kServices)));
  const int paths = std::min<int>(o.servicepaths_per_service, static_cast<int>(std::size(kPaths)));
  const int types = std::min<int>(o.types, static_cast<int>(std::size(kTypes)));
  // Each type lives in one (service, servicepath): types are spread over them.
  for (int t = 0; t < types; ++t) {
    const int s = t % services;
    const int p = (t / services) % paths;
    entity_kind k;
    k.service = kServices[s];
    k.servicepath = kPaths[p];
    k.type = kTypes[t];
    k.schema = k.service;
    k.table = std::string(kPaths[p] + 1) + "_" + lower(k.type);
    kinds_.push_back(k);
  }
}

std::string workload::ddl() const {
  std::ostringstream sql;
  std::set<std::string> schemas;
  for (const auto& k : kinds_) schemas.insert(k.schema);
  for (const auto& s : schemas) sql << "DROP SCHEMA IF EXISTS " << s << " CASCADE; CREATE SCHEMA " << s << ";\n";
  const char* columns =
      "(timeinstant timestamptz NOT NULL, recvtime timestamptz NOT NULL, entityid text NOT NULL, entitytype text, "
      "fiwareservicepath text, temperature double precision, humidity double precision, level bigint, "
      "status text, name text, active boolean, config jsonb, location geometry(Point, 4326), "
      "area geometry(Polygon, 4326), sentat bigint, committed_at timestamptz DEFAULT clock_timestamp()";
  for (const auto& k : kinds_) {
    const auto base = k.schema + "." + k.table;
    sql << "CREATE TABLE " << base << " " << columns << ", PRIMARY KEY (timeinstant, entityid));\n";
    sql << "CREATE TABLE " << base << "_lastdata " << columns << ", PRIMARY KEY (entityid));\n";
    sql << "CREATE TABLE " << base << "_mutable " << columns << ", PRIMARY KEY (entityid, timeinstant));\n";
  }
  return sql.str();
}

std::vector<std::string> workload::tables(const std::string& suffix) const {
  std::vector<std::string> out;
  for (const auto& k : kinds_) out.push_back(k.schema + "." + k.table + suffix);
  return out;
}

workload::notification workload::make(std::uint64_t i, std::int64_t sent_us) const {
  const std::uint64_t h = mix(o_.seed ^ (i * 0x100000001b3ULL));
  const int entity = static_cast<int>(h % static_cast<std::uint64_t>(o_.entities));
  const std::size_t kind = static_cast<std::size_t>(entity) % kinds_.size();
  const auto& k = kinds_[kind];
  notification n;
  n.kind = kind;
  char id[64];
  std::snprintf(id, sizeof id, "%s-%05d", k.type.c_str(), entity);
  n.entity_id = id;
  // Each entity reports in order: its i-th notification is i seconds later.
  const std::int64_t when = static_cast<std::int64_t>(i);
  const double lat = 40.3 + unit(mix(entity + 1)) * 0.2;
  const double lon = -3.8 + unit(mix(entity + 2)) * 0.2;
  const double temperature = std::round((5.0 + unit(mix(h + 3)) * 30.0) * 100) / 100;
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      R"({"subscriptionId":"6895adbe6eab6b4036053%03d","data":[{"id":"%s","type":"%s",)"
      R"("TimeInstant":{"type":"DateTime","value":"%s","metadata":{}},)"
      R"("temperature":{"type":"Number","value":%.2f,"metadata":{}},)"
      R"("humidity":{"type":"Number","value":%.3f,"metadata":{}},)"
      R"("level":{"type":"Number","value":%llu,"metadata":{}},)"
      R"("status":{"type":"Text","value":"%s","metadata":{}},)"
      R"("name":{"type":"Text","value":"%s %d","metadata":{}},)"
      R"("active":{"type":"Boolean","value":%s,"metadata":{}},)"
      R"("config":{"type":"StructuredValue","value":{"mode":"%s","threshold":%d,"tags":["a","b"]},"metadata":{}},)"
      R"("location":{"type":"geo:point","value":"%.6f, %.6f","metadata":{}},)"
      R"("area":{"type":"geo:json","value":{"type":"Polygon","coordinates":[[[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f]]]},"metadata":{}},)"
      R"("sentAt":{"type":"Number","value":%lld,"metadata":{}}}]})",
      static_cast<int>(kind), id, k.type.c_str(), test::iso_time(when, kStart).c_str(), temperature, unit(mix(h + 4)),
      static_cast<unsigned long long>(mix(h + 5) % 100000), (h & 1) ? "ok" : "warning", k.type.c_str(), entity,
      (h & 2) ? "true" : "false", (h & 4) ? "eco" : "full", static_cast<int>(h % 100), lat, lon, lon, lat, lon + 0.001,
      lat, lon + 0.001, lat + 0.001, lon, lat, static_cast<long long>(sent_us));
  n.body = buf;
  return n;
}

std::string workload::time_instant(std::uint64_t i) { return test::iso_time(static_cast<long long>(i), kStart); }

const char* workload::copy_columns() {
  return "timeinstant, recvtime, entityid, entitytype, fiwareservicepath, temperature, humidity, level, status, "
         "name, active, config, location, area, sentat";
}

std::string workload::copy_line(std::uint64_t i, std::int64_t recv_us) const {
  const std::uint64_t h = mix(o_.seed ^ (i * 0x100000001b3ULL));
  const int entity = static_cast<int>(h % static_cast<std::uint64_t>(o_.entities));
  const auto& k = kinds_[static_cast<std::size_t>(entity) % kinds_.size()];
  const double lat = 40.3 + unit(mix(entity + 1)) * 0.2;
  const double lon = -3.8 + unit(mix(entity + 2)) * 0.2;
  const double temperature = std::round((5.0 + unit(mix(h + 3)) * 30.0) * 100) / 100;
  std::time_t t = recv_us / 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char recv[40];
  std::strftime(recv, sizeof recv, "%Y-%m-%d %H:%M:%S+00", &tm);
  char buf[2048];
  std::snprintf(buf, sizeof buf,
                "%s\t%s\t%s-%05d\t%s\t%s\t%.2f\t%.3f\t%llu\t%s\t%s %d\t%s\t{\"mode\":\"%s\",\"threshold\":%d,"
                "\"tags\":[\"a\",\"b\"]}\tSRID=4326;POINT(%.6f %.6f)\tSRID=4326;POLYGON((%.5f %.5f,%.5f %.5f,%.5f "
                "%.5f,%.5f %.5f))\t0\n",
                test::iso_time(static_cast<long long>(i), kStart).c_str(), recv, k.type.c_str(), entity, k.type.c_str(),
                k.servicepath.c_str(), temperature, unit(mix(h + 4)),
                static_cast<unsigned long long>(mix(h + 5) % 100000), (h & 1) ? "ok" : "warning", k.type.c_str(),
                entity, (h & 2) ? "t" : "f", (h & 4) ? "eco" : "full", static_cast<int>(h % 100), lon, lat, lon, lat,
                lon + 0.001, lat, lon + 0.001, lat + 0.001, lon, lat);
  return buf;
}

}  // namespace kafnus::bench
