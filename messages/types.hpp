#pragma once
// Registration of every message type with CAF. Messages are passed between
// actors of one process only; they are moved, never serialized, so they are
// declared as unsafe (non-serializable) message types.

#include <caf/allowed_unsafe_message_type.hpp>

#include "messages/raw_batch.hpp"
#include "messages/row_batch.hpp"
#include "messages/write_ack.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kafnus::msg::raw_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kafnus::msg::row_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kafnus::msg::polled_rows)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kafnus::msg::write_ack)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kafnus::msg::source_range)
