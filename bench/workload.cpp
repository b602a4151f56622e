#include "bench/workload.hpp"

#include "test/support/notifications.hpp"
#include "text/ascii.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <stdexcept>

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
  char subscription[32];
  std::snprintf(subscription, sizeof subscription, "6895adbe6eab6b4036053%03d", static_cast<int>(kind));
  n.subscription_id = subscription;
  // Each entity reports in order: its i-th notification is i seconds later.
  const std::int64_t when = static_cast<std::int64_t>(i);
  const double lat = 40.3 + unit(mix(entity + 1)) * 0.2;
  const double lon = -3.8 + unit(mix(entity + 2)) * 0.2;
  const double temperature = std::round((5.0 + unit(mix(h + 3)) * 30.0) * 100) / 100;
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      R"({"subscriptionId":"%s","data":[{"id":"%s","type":"%s",)"
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
      subscription, id, k.type.c_str(), test::iso_time(when, kStart).c_str(), temperature, unit(mix(h + 4)),
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

sweep_shape::sweep_shape(sweep_shape_options o) : o_(o) {}

namespace {

// Entity type t of a shape of `types`: "Sensor" alone, else Sensor0000…
std::string sweep_type(int t, int types) {
  if (types <= 1) return "Sensor";
  char name[24];
  std::snprintf(name, sizeof name, "Sensor%04d", t);
  return name;
}

}  // namespace

std::vector<std::string> sweep_shape::tables(const std::string& suffix) const {
  std::vector<std::string> out;
  for (int t = 0; t < std::max(1, o_.types); ++t) {
    out.push_back("sweep.sweep_" + text::to_lower_ascii(sweep_type(t, o_.types)) + suffix);
  }
  return out;
}

namespace {

std::string attribute_name(int j) {
  char name[16];
  std::snprintf(name, sizeof name, "a%04d", j);
  return name;
}

bool numeric_attribute(int j) { return j % 2 == 1; }

}  // namespace

std::string sweep_shape::create_tables(const std::string& suffix) const {
  std::string columns =
      " (timeinstant timestamptz NOT NULL, recvtime timestamptz NOT NULL, entityid text NOT NULL, "
      "entitytype text, fiwareservicepath text, location geometry(Point, 4326)";
  for (int j = 1; j <= o_.attributes; ++j) {
    columns += ", " + attribute_name(j) + (numeric_attribute(j) ? " double precision" : " text");
  }
  // No autovacuum: the prefill alone reaches its insert threshold, and a
  // vacuum of millions of rows would share the two cores with the catch-up.
  columns += ") WITH (autovacuum_enabled = false);";
  std::string sql = "DROP SCHEMA IF EXISTS sweep CASCADE; CREATE SCHEMA sweep;";
  for (const auto& t : tables(suffix)) sql += " CREATE TABLE " + t + columns;
  return sql;
}

std::string sweep_shape::add_indexes(const std::string& suffix) const {
  std::string sql;
  for (const auto& t : tables(suffix)) {
    sql += "ALTER TABLE " + t + " ADD PRIMARY KEY " + (suffix.empty() ? "(timeinstant, entityid)" : "(entityid)") +
           "; CREATE INDEX ON " + t + " USING gist (location); ANALYZE " + t + ";";
  }
  return sql;
}

std::string sweep_shape::prefill(const std::string& suffix, std::uint64_t rows) const {
  if (rows == 0) return "";
  if (o_.types > 1) throw std::logic_error("sweep_shape::prefill: one entity type only");
  const bool historic = suffix.empty();
  // g counts rows back from the start: historic rows one second apart, the
  // entities in turn; lastdata one row per entity.
  const std::string entity = historic ? "(g % " + std::to_string(o_.entities) + ")" : "(g - 1)";
  std::string sql = "INSERT INTO " + tables(suffix).front() +
                    " (timeinstant, recvtime, entityid, entitytype, fiwareservicepath, location";
  for (int j = 1; j <= o_.attributes; ++j) sql += ", " + attribute_name(j);
  sql += ") SELECT to_timestamp(" + std::to_string(kStart) + " - g), to_timestamp(" + std::to_string(kStart) +
         " - g), 'Sensor-' || lpad(" + entity +
         "::text, 7, '0'), 'Sensor', '/sweep', ST_SetSRID(ST_MakePoint(-3.8 + ((g * 7919) % 200003) / 1000015.0, "
         "40.3 + ((g * 104729) % 200017) / 1000085.0), 4326)";
  for (int j = 1; j <= o_.attributes; ++j) {
    sql += numeric_attribute(j) ? ", ((g * " + std::to_string(j + 30) + ") % 10007) / 100.0"
                                : ", 't' || ((g + " + std::to_string(j) + ") % 97)";
  }
  return sql + " FROM generate_series(1::bigint, " + std::to_string(rows) + ") g";
}

std::uint64_t sweep_shape::entity_of(std::uint64_t i) const {
  return mix(o_.seed ^ (i * 0x100000001b3ULL)) % o_.entities;
}

std::string sweep_shape::entity_id(std::uint64_t entity) const {
  char id[32];
  std::snprintf(id, sizeof id, "Sensor-%07llu", static_cast<unsigned long long>(entity));
  return id;
}

std::string sweep_shape::start() { return test::iso_time(0, kStart); }

workload::notification sweep_shape::make(std::uint64_t i) const {
  const std::uint64_t h = mix(o_.seed ^ (i * 0x100000001b3ULL));
  workload::notification n;
  const std::uint64_t entity = h % o_.entities;
  n.entity_id = entity_id(entity);
  std::string& b = n.body;
  b.reserve(160 + static_cast<std::size_t>(o_.attributes) * 56);
  char buf[160];
  b += R"({"subscriptionId":"6895adbe6eab6b4036053999","data":[{"id":")" + n.entity_id + R"(","type":")" +
       sweep_type(static_cast<int>(entity % static_cast<std::uint64_t>(std::max(1, o_.types))), o_.types) +
       R"(","TimeInstant":{"type":"DateTime","value":")" + test::iso_time(static_cast<long long>(i), kStart) +
       R"(","metadata":{}},)";
  std::snprintf(buf, sizeof buf,
                R"("location":{"type":"geo:json","value":{"type":"Point","coordinates":[%.6f,%.6f]},"metadata":{}})",
                -3.8 + unit(mix(h + 1)) * 0.2, 40.3 + unit(mix(h + 2)) * 0.2);
  b += buf;
  for (int j = 1; j <= o_.attributes; ++j) {
    const std::uint64_t v = mix(h + static_cast<std::uint64_t>(j) + 2);
    if (numeric_attribute(j)) {
      std::snprintf(buf, sizeof buf, R"(,"%s":{"type":"Number","value":%.2f,"metadata":{}})", attribute_name(j).c_str(),
                    static_cast<double>(v % 100000) / 100.0);
    } else {
      std::snprintf(buf, sizeof buf, R"(,"%s":{"type":"Text","value":"t%u","metadata":{}})", attribute_name(j).c_str(),
                    static_cast<unsigned>(v % 97));
    }
    b += buf;
  }
  b += "}]}";
  return n;
}

}  // namespace kafnus::bench
