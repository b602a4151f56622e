#include "actors/batch_transform.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "postgis/statements.hpp"
#include "telemetry/log.hpp"

namespace kafnus {
namespace {

using std::chrono::steady_clock;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The datamodel as ngsi/ names it (ngsi/ knows nothing of the configuration).
ngsi::datamodel to_ngsi(config::datamodel dm) {
  switch (dm) {
    case config::datamodel::by_entity_type_database: return ngsi::datamodel::by_entity_type_database;
    case config::datamodel::by_entity_type_database_schema: return ngsi::datamodel::by_entity_type_database_schema;
    case config::datamodel::by_fixed_entity_type_database_schema:
      return ngsi::datamodel::by_fixed_entity_type_database_schema;
  }
  return ngsi::datamodel::by_entity_type_database;
}

ngsi::transform_options options_for(const config::settings& s, ngsi::flow f) {
  ngsi::transform_options o;
  o.f = f;
  o.datamodels.fallback = to_ngsi(s.datamodel.default_datamodel);
  for (const auto& [service, dm] : s.datamodel.services) o.datamodels.per_service[service] = to_ngsi(dm);
  o.lim.max_message_bytes = static_cast<std::size_t>(s.limits.max_message_bytes);
  o.lim.max_value_bytes = static_cast<std::size_t>(s.limits.max_value_bytes);
  o.lim.max_nesting_depth = s.limits.max_nesting_depth;
  o.lim.max_attributes = s.limits.max_attributes;
  o.mappings = s.mappings.rules;
  return o;
}

// Where a record that cannot be written came from, as a SQL comment: there
// is no statement to re-run, but an operator can find the record.
std::string record_reference(const msg::source_range& src, const msg::raw_record& r) {
  constexpr std::size_t kExcerpt = 4096;
  std::string s = "-- not a statement: Kafka record " + src.topic + "/" + std::to_string(src.partition) + "@" +
                  std::to_string(r.offset) + " (" + std::to_string(r.value.size()) + " bytes): ";
  const auto n = std::min(r.value.size(), kExcerpt);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = r.value[i];
    if (c == '\n')
      s += "\\n";
    else if (c == '\r')
      s += "\\r";
    else
      s += c;
  }
  if (r.value.size() > kExcerpt) s += "…";
  return s;
}

}  // namespace

batch_transform::batch_transform(const config::settings& s, std::shared_ptr<metrics> m) : m_(std::move(m)) {
  for (auto f : ngsi::kAllFlows) options_[static_cast<std::size_t>(f)] = options_for(s, f);
}

// Every record becomes the rows of each flow its topic feeds (each flow's
// rows and errors of a record kept together, so a batch splits only
// between records: a record's flows share one position).
msg::row_batch batch_transform::operator()(const msg::raw_batch& batch) {
  struct flow_tally {
    std::int64_t entities = 0;
    std::int64_t errors = 0;
    double last_seconds = 0;
    std::string first_error;  // for the log
  };
  std::array<flow_tally, 3> tally{};
  msg::row_batch out;
  out.source = batch.source;
  out.records.reserve(batch.records.size());
  const auto recv_us = now_us();
  std::int64_t value_bytes = 0;
  ngsi::transform_output t;
  t.rows.reserve(batch.records.size() * batch.flows.size());
  // The options of the batch's flows, in its order: a record is read once
  // and shaped for each (ngsi::transform_flows).
  std::vector<const ngsi::transform_options*> flow_options;
  flow_options.reserve(batch.flows.size());
  for (const auto flow : batch.flows) flow_options.push_back(&options_[static_cast<std::size_t>(flow)]);
  // Where the current record's flows stand: each flow's rows and errors
  // are those `t` gained since the flow before.
  struct record_state {
    const msg::raw_record* r = nullptr;
    steady_clock::time_point t0;
    std::size_t errors_before = 0;
    std::size_t out_errors_before = 0;
    std::size_t entities_before = 0;
  } st;
  // Called once each flow's rows and errors are in `t` (built once per
  // batch: a std::function per record would allocate). The first flow's
  // time includes reading the record.
  const std::function<void(std::size_t)> after_flow = [&](std::size_t k) {
    const auto flow = batch.flows[k];
    const auto i = static_cast<std::size_t>(flow);
    for (auto e = st.errors_before; e < t.errors.size(); ++e) {
      auto& err = t.errors[e];
      std::string query =
          err.candidate ? postgis::render_statement(*err.candidate) : record_reference(batch.source, *st.r);
      out.errors.push_back(
          msg::flow_error{flow, ngsi::error_entry{err.service, recv_us, std::move(err.message), std::move(query)}});
    }
    if (tally[i].first_error.empty() && out.errors.size() > st.out_errors_before) {
      tally[i].first_error = out.errors[st.out_errors_before].entry.error;
    }
    tally[i].entities += static_cast<std::int64_t>(t.entities - st.entities_before);
    tally[i].errors += static_cast<std::int64_t>(t.errors.size() - st.errors_before);
    const auto now = steady_clock::now();
    tally[i].last_seconds = std::chrono::duration<double>(now - st.t0).count();
    m_->flow(flow).processing_seconds->Observe(tally[i].last_seconds);
    st.t0 = now;
    st.errors_before = t.errors.size();
    st.out_errors_before = out.errors.size();
    st.entities_before = t.entities;
  };
  // A record's time starts where the one before ended (after_flow's last
  // reading): one clock reading per flow, none more per record.
  st.t0 = steady_clock::now();
  for (const auto& r : batch.records) {
    st = record_state{&r, st.t0, t.errors.size(), out.errors.size(), t.entities};
    ngsi::transform_flows(r.value, r.headers, flow_options, recv_us, t, after_flow);
    value_bytes += static_cast<std::int64_t>(r.value.size());
    out.records.push_back(msg::record_mark{r.offset + 1, t.rows.size(), out.errors.size(), value_bytes});
  }
  for (auto& row : t.rows) out.bytes += static_cast<std::int64_t>(row.byte_size());
  out.rows = std::move(t.rows);

  const auto n = static_cast<std::int64_t>(batch.records.size());
  for (const auto flow : batch.flows) {
    const auto& f = tally[static_cast<std::size_t>(flow)];
    auto& fm = m_->flow(flow);
    fm.messages_processed->Increment(static_cast<double>(n));
    fm.last_processing_seconds->Set(f.last_seconds);
    fm.entities->Increment(static_cast<double>(f.entities));
    auto& health = m_->health().flows[static_cast<std::size_t>(flow)];
    health.messages += n;
    health.errors += f.errors;
    health.last_duration_s = f.last_seconds;
    health.last_processed_ms = recv_us / 1000;
    if (f.errors > 0) {
      fm.record_errors->Increment(static_cast<double>(f.errors));
      log::debug("processor.record_errors", "records or entities could not become rows; they go to the error log",
                 {{"flow", std::string(ngsi::to_string(flow))},
                  {"count", std::to_string(f.errors)},
                  {"first", f.first_error}});
    }
  }
  return out;
}

}  // namespace kafnus
