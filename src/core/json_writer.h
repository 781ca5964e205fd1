// Serialises a boost::json::value to compact JSON text, appending to a caller-owned
// buffer. Used on the hot path to re-serialise request bodies for the upstream: it copies
// runs of plain string bytes in bulk and formats numbers with std::to_chars, several times
// cheaper than boost::json::serializer's byte-at-a-time state machine. Pure; thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace sluice {

// Appends `value` as JSON. Numbers keep their kind (int64, uint64, double: shortest form
// that round-trips); non-finite doubles, which JSON cannot express, are written as null.
void AppendJsonValue(std::string& out, const boost::json::value& value);
void AppendJsonObject(std::string& out, const boost::json::object& object);

}  // namespace sluice
