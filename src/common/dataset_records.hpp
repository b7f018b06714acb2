#pragma once
// Building blocks of the dataset readers (common/datasets.hpp): JSON and JSONL
// record files, required fields, format-name tables, and the record loop that
// adds file and line to a malformed record's reason or skips it. Internal to the
// readers; callers use common/datasets.hpp.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/datasets.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

namespace rdt::records {

using Json = nlohmann::json;

// A malformed record. Record converters throw it with the reason only; the record
// loop (process_record) adds the file and line.
class InvalidRecord : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throw InvalidRecord with a formatted reason.
template <typename... Args>
[[noreturn]] void reject(fmt::format_string<Args...> format, Args &&... args) {
    throw InvalidRecord(fmt::format(format, std::forward<Args>(args)...));
}

template <typename Format>
struct FormatName {
    Format format;
    std::string_view name;
};

// Return the format called name in table, or throw listing the accepted names.
template <typename Format, std::size_t kCount>
Format format_from_name(const std::array<FormatName<Format>, kCount> & table, std::string_view name,
                        std::string_view kind) {
    std::vector<std::string> accepted;
    for (const FormatName<Format> & entry : table) {
        if (entry.name == name) {
            return entry.format;
        }
        accepted.emplace_back(entry.name);
    }
    fail("unknown {} format \"{}\"; use one of: {}", kind, name, join_strings(accepted, ", "));
}

template <typename Format, std::size_t kCount>
std::string_view name_of_format(const std::array<FormatName<Format>, kCount> & table, Format format) {
    const auto it =
        std::find_if(table.begin(), table.end(), [&](const auto & entry) { return entry.format == format; });
    return it == table.end() ? std::string_view("unknown") : it->name;
}

// Count one record in stats and convert it with handle(). A malformed record
// throws rdt::Error naming location or, with skip_invalid, is counted and skipped.
void process_record(const std::string & location, bool skip_invalid, ReadStats & stats,
                    const std::function<void()> & handle);

// Whether text (after leading whitespace) opens a JSON array.
bool starts_json_array(std::string_view text);

// One JSONL line as JSON; a syntax error is an InvalidRecord with its column.
Json parse_json_line(const std::string & line);

// A whole file's text as one JSON document; a syntax error fails naming path.
Json parse_json_array(std::string_view text, const std::filesystem::path & path);

// The records of a JSON data file: either one object per line (JSONL) or the
// elements of one array. Blank JSONL lines are skipped.
class JsonRecordFile {
  public:
    JsonRecordFile(std::string_view text, std::filesystem::path path) : path_(std::move(path)) {
        if (starts_json_array(text)) {
            array_ = parse_json_array(text, path_);
            is_array_ = true;
        } else {
            lines_ = split_lines(text);
        }
    }

    // Return the first record if it is a JSON object, for format detection.
    std::optional<Json> first_object() const {
        if (is_array_) {
            if (array_.empty() || !array_.front().is_object()) {
                return std::nullopt;
            }
            return array_.front();
        }

        for (const std::string & line : lines_) {
            if (is_blank(line)) {
                continue;
            }
            const Json record = Json::parse(line, nullptr, false);
            return record.is_object() ? std::optional<Json>(record) : std::nullopt;
        }
        return std::nullopt;
    }

    // Call handle on each record, through process_record.
    void for_each(bool skip_invalid, ReadStats & stats,
                  const std::function<void(const Json &)> & handle) const {
        if (is_array_) {
            for (std::size_t i = 0; i < array_.size(); ++i) {
                const std::string location = fmt::format("{}: array index {}", path_.string(), i);
                process_record(location, skip_invalid, stats, [&] { handle(array_[i]); });
            }
            return;
        }

        for (std::size_t i = 0; i < lines_.size(); ++i) {
            if (is_blank(lines_[i])) {
                continue;
            }
            const std::string location = fmt::format("{}:{}", path_.string(), i + 1);
            process_record(location, skip_invalid, stats, [&] { handle(parse_json_line(lines_[i])); });
        }
    }

  private:
    std::filesystem::path path_;
    bool is_array_ = false;
    Json array_;
    std::vector<std::string> lines_;
};

// Reject a record that is not a JSON object.
void require_object(const Json & record);

// A field found under one of several accepted names.
struct Field {
    std::string_view name;
    const Json * value = nullptr;
};

// Return the first of names that record has with a non-null value.
std::optional<Field> find_field(const Json & record, const std::vector<std::string> & names);

// Return the non-empty string field found under one of names.
std::string required_text(const Json & record, const std::vector<std::string> & names);

}  // namespace rdt::records
