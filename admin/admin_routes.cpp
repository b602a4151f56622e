#include "admin/admin_routes.hpp"

#include <chrono>
#include <exception>
#include <string_view>

#include <prometheus/text_serializer.h>
#include <simdjson.h>

#include "admin/accept_header.hpp"
#include "admin/bearer_token.hpp"
#include "admin/config_json.hpp"
#include "admin/health_report.hpp"
#include "ngsi/text.hpp"
#include "telemetry/json_writer.hpp"
#include "telemetry/log.hpp"

namespace kafnus {
namespace {

constexpr const char* kLevels = "trace, debug, info, warn, error";
// An unknown level is quoted back in the 400 at most this long.
constexpr std::size_t kEchoedLevelBytes = 32;
constexpr const char* kRoutes[] = {"/metrics", "/health", "/healthz", "/readyz", "/logLevel", "/config"};

http_response error_response(int status, std::string_view code, std::string_view description) {
  json_writer w;
  w.begin_object().key("error").string(code).key("description").string(description).end_object();
  return json_response(status, w.str());
}

http_response method_not_allowed(const char* allow) {
  auto r = error_response(405, "MethodNotAllowed", std::string("allowed methods: ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

http_response bad_level(std::string_view problem) {
  return error_response(400, "BadRequest",
                        std::string(problem) + "; send {\"level\": \"<level>\"} with <level> one of: " + kLevels);
}

}  // namespace

std::string route_label(const std::string& path) {
  for (const char* r : kRoutes) {
    if (path == r) return path;
  }
  return "other";
}

admin_routes::admin_routes(std::shared_ptr<metrics> m, admin_options options)
    : metrics_(std::move(m)), options_(std::move(options)) {}

http_response admin_routes::handle(const http_request& request) const noexcept {
  http_response response;
  try {
    response = route(request);
  } catch (const std::exception& e) {
    log::error("admin.request_failed", e.what(), {{"method", request.method}, {"path", request.path}});
    response = error_response(500, "InternalServerError", "the request could not be served; see the daemon's log");
  } catch (...) {
    log::error("admin.request_failed", "unknown exception", {{"method", request.method}, {"path", request.path}});
    response = error_response(500, "InternalServerError", "the request could not be served; see the daemon's log");
  }
  try {
    metrics_->admin_requests(route_label(request.path), response.status).Increment();
  } catch (const std::exception& e) {
    log::warn("admin.count_failed", e.what());
  }
  return response;
}

http_response admin_routes::route(const http_request& request) const {
  const auto& path = request.path;
  const bool get = request.method == "GET";
  if (path == "/logLevel") return log_level(request);
  if (path == "/metrics") return get ? get_metrics(request) : method_not_allowed("GET");
  if (path == "/health") return get ? get_health() : method_not_allowed("GET");
  if (path == "/healthz") return get ? get_liveness() : method_not_allowed("GET");
  if (path == "/readyz") return get ? get_readiness() : method_not_allowed("GET");
  if (path == "/config") return get ? get_config() : method_not_allowed("GET");
  return error_response(404, "NotFound",
                        "no such endpoint; the admin server serves /metrics, /health, /healthz, /readyz, "
                        "/logLevel and /config");
}

std::vector<prometheus::MetricFamily> admin_routes::collect() const {
  auto families = metrics_->registry()->Collect();
  auto process = process_.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()), std::make_move_iterator(process.end()));
  return families;
}

std::shared_ptr<const std::string> admin_routes::render_metrics() const {
  auto& st = *render_;
  std::unique_lock<std::mutex> lock(st.mutex);
  if (st.rendering) {
    const auto seen = st.generation;
    st.done.wait(lock, [&] { return st.generation != seen; });
    if (st.page) return st.page;  // else that rendering failed: try ourselves
  }
  st.rendering = true;
  lock.unlock();
  std::shared_ptr<const std::string> page;
  try {
    page = std::make_shared<const std::string>(prometheus::TextSerializer().Serialize(collect()));
  } catch (...) {
    lock.lock();
    st.rendering = false;
    st.page.reset();
    ++st.generation;
    st.done.notify_all();
    throw;
  }
  lock.lock();
  st.rendering = false;
  st.page = page;
  ++st.generation;
  st.done.notify_all();
  return page;
}

http_response admin_routes::get_metrics(const http_request& request) const {
  if (request.accept && !accepts_prometheus_text(*request.accept)) {
    return error_response(406, "NotAcceptable", "Accept header must allow Prometheus text format (text/plain or */*)");
  }
  http_response r;
  r.content_type = kPrometheusTextType;
  r.body = *render_metrics();
  return r;
}

http_response admin_routes::get_health() const {
  const auto& h = metrics_->health();
  const auto now = std::chrono::system_clock::now();
  return json_response(assess(h, now, options_.kafka_down_after).ready ? 200 : 503,
                       health_json(h, now, options_.kafka_down_after));
}

http_response admin_routes::get_liveness() const {
  return json_response(200, liveness_json(metrics_->health(), std::chrono::system_clock::now()));
}

http_response admin_routes::get_readiness() const {
  const auto& h = metrics_->health();
  const auto now = std::chrono::system_clock::now();
  return json_response(assess(h, now, options_.kafka_down_after).ready ? 200 : 503,
                       readiness_json(h, now, options_.kafka_down_after));
}

http_response admin_routes::log_level(const http_request& request) const {
  if (request.method == "GET") {
    json_writer w;
    w.begin_object().key("level").string(log::current_level()).end_object();
    return json_response(200, w.str());
  }
  if (request.method != "POST") return method_not_allowed("GET, POST");
  if (!bearer_authorized(request.authorization, options_.token)) {
    log::warn("admin.unauthorized", "POST /logLevel without the admin token");
    auto r =
        error_response(401, "Unauthorized", "POST /logLevel requires the header 'Authorization: Bearer <admin.token>'");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kafnus\"");
    return r;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element body;
  if (parser.parse(request.body).get(body) != simdjson::SUCCESS) return bad_level("the body is not valid JSON");
  simdjson::dom::object fields;
  if (body.get(fields) != simdjson::SUCCESS) return bad_level("the body must be a JSON object");
  // simdjson's lookup takes the first of repeated keys, most JSON parsers the
  // last: a body that repeats "level" is ambiguous, so it is refused.
  simdjson::dom::element level;
  int seen = 0;
  for (auto field : fields) {
    if (field.key == "level") {
      level = field.value;
      ++seen;
    }
  }
  if (seen > 1) return bad_level("the field \"level\" is given " + std::to_string(seen) + " times");
  std::string_view wanted;
  if (seen == 0 || level.get(wanted) != simdjson::SUCCESS) return bad_level("missing string field \"level\"");
  const auto previous = log::current_level();
  // The level is echoed cut short (and escaped): a 60 KB body is not sent back.
  if (!log::set_level(wanted)) return bad_level("unknown level " + ngsi::quoted(wanted, kEchoedLevelBytes));
  const auto now = log::current_level();
  log::info("admin.log_level", "log level changed", {{"level", now}, {"previous", previous}});
  json_writer w;
  w.begin_object().key("ok").boolean(true).key("level").string(now).end_object();
  return json_response(200, w.str());
}

http_response admin_routes::get_config() const {
  return json_response(200, effective_config_json(options_.effective_yaml));
}

}  // namespace kafnus
