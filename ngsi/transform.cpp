#include "ngsi/transform.hpp"

#include <algorithm>
#include <exception>
#include <new>

#include "ngsi/entity.hpp"
#include "ngsi/notification.hpp"
#include "ngsi/table_name.hpp"
#include "ngsi/text.hpp"

namespace kafnus::ngsi {

namespace {

// transform_flows over `count` options at `flows` (one transform() builds no vector).
void transform_each(std::string_view payload, const header_list& headers, const transform_options* const* flows,
                    std::size_t count, std::int64_t now_us, transform_output& out,
                    const std::function<void(std::size_t)>& after_flow) {
  if (count == 0) return;
  const transform_options& common = *flows[0];
  fiware_context ctx = read_fiware_context(headers);
  std::size_t done = 0;  // flows whose rows and errors are complete
  // A failure of the record as a whole: the same error in every flow not done yet.
  auto record_error = [&](const std::string& message) {
    for (; done < count; ++done) {
      out.errors.push_back(transform_error{ctx.service, message, std::nullopt});
      after_flow(done);
    }
  };
  // Nothing here throws on any input; the only exceptions left are resource
  // failures (memory), which must not take the partition down either.
  try {
    // The service rule depends on the service alone, so even the record's
    // own errors go to the mapped service's error log, beside its rows.
    const service_rule* mapping = common.mappings ? common.mappings->match_service(ctx.service_sent) : nullptr;
    if (mapping) {
      if (auto service = mapped_service(*mapping, ctx.service_sent)) ctx.service = normalize_service(*service);
    }
    // The servicepath is data (column fiwareservicepath) and Kafka headers are
    // arbitrary bytes: hold it to what a PostgreSQL text value can be.
    if (ctx.servicepath.find('\0') != std::string::npos || !is_valid_utf8(ctx.servicepath)) {
      record_error("the fiware-servicepath header " + quoted(ctx.servicepath) +
                   " holds a NUL character or is not valid UTF-8, so it cannot be stored in column "
                   "fiwareservicepath");
      return;
    }
    auto dm = choose_datamodel(ctx, common.datamodels);
    if (!dm) {
      record_error(dm.err().message);
      return;
    }
    auto n = read_notification(payload, common.lim);
    if (!n) {
      record_error(n.err().message);
      return;
    }
    const json_tree& tree = *n.value().tree;
    const std::uint32_t data = n.value().data;
    const json_node& entities = tree.at(data);
    // The caller accumulates a batch in `out`: grow geometrically, never to
    // the exact size, or appending record after record would be quadratic.
    const std::size_t needed = out.rows.size() + entities.count * count;
    if (out.rows.capacity() < needed) out.rows.reserve(std::max(needed, 2 * out.rows.capacity()));
    for (; done < count;) {
      out.entities += entities.count;
      const record_context rc{ctx, dm.value(), *flows[done], now_us, mapping};
      std::size_t index = 0;
      for (std::uint32_t e = json_tree::first_child(data); e < entities.next; e = tree.at(e).next, ++index) {
        entity_to_row(tree, e, index, rc, out);
      }
      after_flow(done++);
    }
  } catch (const std::exception& ex) {
    // Reporting allocates too; if even that fails, the record is dropped
    // rather than the exception escaping.
    try {
      if (dynamic_cast<const std::bad_alloc*>(&ex) != nullptr) {
        record_error("out of memory while transforming the record (" + std::to_string(payload.size()) + " bytes)");
      } else {
        record_error(std::string("internal error while transforming the record: ") + ex.what());
      }
    } catch (...) {
    }
  }
}

}  // namespace

void transform_flows(std::string_view payload, const header_list& headers,
                     const std::vector<const transform_options*>& flows, std::int64_t now_us, transform_output& out,
                     const std::function<void(std::size_t)>& after_flow) {
  transform_each(payload, headers, flows.data(), flows.size(), now_us, out, after_flow);
}

void transform(std::string_view payload, const header_list& headers, const transform_options& options,
               std::int64_t now_us, transform_output& out) {
  const transform_options* one = &options;
  static const std::function<void(std::size_t)> nothing = [](std::size_t) {};
  transform_each(payload, headers, &one, 1, now_us, out, nothing);
}

}  // namespace kafnus::ngsi
