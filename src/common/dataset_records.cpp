#include "common/dataset_records.hpp"

namespace rdt::records {

namespace {

// Return the part of a nlohmann::json exception message after its
// "[json.exception.parse_error.101] " prefix.
std::string_view without_exception_id(std::string_view message) {
    const std::size_t end = message.find("] ");
    return end == std::string_view::npos ? message : message.substr(end + 2);
}

// Return the reason in a nlohmann::json parse error message, without the
// "parse error at line 1, column 7: " part that refers to a single parsed line.
std::string_view json_error_reason(std::string_view message) {
    const std::size_t column = message.find("column ");
    const std::size_t colon = message.find(": ", column == std::string_view::npos ? 0 : column);
    if (column == std::string_view::npos || colon == std::string_view::npos) {
        return without_exception_id(message);
    }
    return message.substr(colon + 2);
}

}  // namespace

void process_record(const std::string & location, bool skip_invalid, ReadStats & stats,
                    const std::function<void()> & handle) {
    ++stats.read;
    try {
        handle();
    } catch (const InvalidRecord & error) {
        if (!skip_invalid) {
            fail("{}: {}", location, error.what());
        }
        ++stats.skipped_invalid;
        if (stats.invalid_examples.size() < kMaxInvalidExamples) {
            stats.invalid_examples.push_back(fmt::format("{}: {}", location, error.what()));
        }
    }
}

bool starts_json_array(std::string_view text) {
    const std::string_view content = trim_whitespace(text);
    return !content.empty() && content.front() == '[';
}

Json parse_json_line(const std::string & line) {
    try {
        return Json::parse(line);
    } catch (const Json::parse_error & error) {
        reject("invalid JSON at column {}: {}; fix or remove the line", error.byte,
               json_error_reason(error.what()));
    }
}

Json parse_json_array(std::string_view text, const std::filesystem::path & path) {
    Json document;
    try {
        document = Json::parse(text);
    } catch (const Json::parse_error & error) {
        fail("{}: invalid JSON, {}; fix the file", path.string(), without_exception_id(error.what()));
    }
    return document;
}



void require_object(const Json & record) {
    if (!record.is_object()) {
        reject("record is a JSON {}, expected an object", record.type_name());
    }
}



std::optional<Field> find_field(const Json & record, const std::vector<std::string> & names) {
    for (const std::string & name : names) {
        const auto it = record.find(name);
        if (it != record.end() && !it->is_null()) {
            return Field{name, &*it};
        }
    }
    return std::nullopt;
}

std::string required_text(const Json & record, const std::vector<std::string> & names) {
    const std::optional<Field> field = find_field(record, names);
    if (!field) {
        reject("missing field \"{}\"; add it or remove the record", join_strings(names, "\" or \""));
    }
    if (!field->value->is_string()) {
        reject("field \"{}\" must be a string, found a JSON {}", field->name, field->value->type_name());
    }

    const auto & text = field->value->get_ref<const std::string &>();
    if (is_blank(text)) {
        reject("field \"{}\" is empty; give it text or remove the record", field->name);
    }
    return text;
}

}  // namespace rdt::records
