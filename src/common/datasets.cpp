#include "common/datasets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/error.hpp"
#include "common/text.hpp"

namespace rdt {

namespace {

using Json = nlohmann::json;

// A malformed record. Record converters throw it with the reason only; the record
// loop (process_record) adds the file and line.
class InvalidRecord : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void reject(fmt::format_string<Args...> format, Args &&... args) {
    throw InvalidRecord(fmt::format(format, std::forward<Args>(args)...));
}

constexpr std::string_view kAcceptedClaimLabels =
    "SUPPORTS, SUPPORTED, true, 1 (true claim); REFUTES, NOT_SUPPORTED, false, 0 (false claim); "
    "NOT ENOUGH INFO";
constexpr std::string_view kAcceptedNliLabels =
    "entailment, neutral, contradiction (any case), 0, 1, 2, or \"-\" and -1 for no gold label";

// ---------------------------------------------------------------------------
// Format names

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

// ---------------------------------------------------------------------------
// Records and their locations

// Count one record in stats and convert it with handle(). A malformed record
// throws rdt::Error naming location or, with skip_invalid, is counted and skipped.
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

void require_object(const Json & record) {
    if (!record.is_object()) {
        reject("record is a JSON {}, expected an object", record.type_name());
    }
}

// A field found under one of several accepted names.
struct Field {
    std::string_view name;
    const Json * value = nullptr;
};

// Return the first of names that record has with a non-null value.
std::optional<Field> find_field(const Json & record, const std::vector<std::string> & names) {
    for (const std::string & name : names) {
        const auto it = record.find(name);
        if (it != record.end() && !it->is_null()) {
            return Field{name, &*it};
        }
    }
    return std::nullopt;
}

// Return the non-empty string field found under one of names.
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

// ---------------------------------------------------------------------------
// Claims

enum class ClaimLabelKind { None, True, False, NotEnoughInfo };

struct ClaimRecord {
    Claim claim;
    bool not_enough_info = false;
};

// JSON field names of one claim format; the first name present wins.
struct ClaimFields {
    std::vector<std::string> id;
    std::vector<std::string> label;
    std::vector<std::string> evidence;
    bool has_num_hops = false;
};

constexpr std::array<FormatName<ClaimFormat>, 6> kClaimFormatNames{{
    {ClaimFormat::Auto, "auto"},
    {ClaimFormat::Fever, "fever"},
    {ClaimFormat::FeverSymmetric, "fever-symmetric"},
    {ClaimFormat::Hover, "hover"},
    {ClaimFormat::Jsonl, "jsonl"},
    {ClaimFormat::Csv, "csv"},
}};

const ClaimFields & claim_fields(ClaimFormat format) {
    static const ClaimFields kFever{{"id"}, {"label"}, {"evidence"}, false};
    static const ClaimFields kFeverSymmetric{
        {"id"}, {"gold_label", "label"}, {"evidence", "evidence_sentence"}, false};
    static const ClaimFields kHover{{"uid"}, {"label"}, {}, true};
    static const ClaimFields kGeneric{{"id", "uid"}, {"label"}, {"evidence"}, true};

    switch (format) {
        case ClaimFormat::Fever:
            return kFever;
        case ClaimFormat::FeverSymmetric:
            return kFeverSymmetric;
        case ClaimFormat::Hover:
            return kHover;
        default:
            return kGeneric;
    }
}

ClaimLabelKind parse_claim_label_text(std::string_view raw) {
    const std::string label = to_lower_ascii(trim_whitespace(raw));
    if (label.empty()) {
        return ClaimLabelKind::None;
    }
    if (label == "supports" || label == "supported" || label == "true" || label == "1") {
        return ClaimLabelKind::True;
    }
    if (label == "refutes" || label == "not_supported" || label == "false" || label == "0") {
        return ClaimLabelKind::False;
    }
    if (label == "not enough info") {
        return ClaimLabelKind::NotEnoughInfo;
    }
    reject("unknown label \"{}\"; accepted labels (case-insensitive): {}", raw, kAcceptedClaimLabels);
}

// Store a label as written in the file, and its meaning, in record.
void set_claim_label_text(std::string raw, ClaimRecord & record) {
    const ClaimLabelKind kind = parse_claim_label_text(raw);
    if (kind == ClaimLabelKind::True || kind == ClaimLabelKind::False) {
        record.claim.label = kind == ClaimLabelKind::True ? 1 : 0;
    }
    record.not_enough_info = kind == ClaimLabelKind::NotEnoughInfo;
    record.claim.raw_label = std::move(raw);
}

// Store the label found in field (if any) in record.
void set_claim_label(const std::optional<Field> & field, ClaimRecord & record) {
    if (!field) {
        return;
    }

    const Json & value = *field->value;
    if (value.is_string()) {
        set_claim_label_text(value.get<std::string>(), record);
    } else if (value.is_boolean() || value.is_number_integer()) {
        set_claim_label_text(value.dump(), record);
    } else {
        reject("field \"{}\" must be a string, boolean or integer, found a JSON {}", field->name,
               value.type_name());
    }
}

std::string optional_id(const Json & record, const std::vector<std::string> & names) {
    const std::optional<Field> field = find_field(record, names);
    if (!field) {
        return "";
    }
    if (field->value->is_string()) {
        return field->value->get<std::string>();
    }
    if (field->value->is_number_integer()) {
        return field->value->dump();
    }
    reject("field \"{}\" must be a string or integer, found a JSON {}", field->name,
           field->value->type_name());
}

// Return the first string among the evidence fields. Other types are ignored
// because FEVER's evidence field contains nested arrays of page ids, not text.
std::string optional_evidence(const Json & record, const std::vector<std::string> & names) {
    for (const std::string & name : names) {
        const auto it = record.find(name);
        if (it != record.end() && it->is_string()) {
            return it->get<std::string>();
        }
    }
    return "";
}

int optional_num_hops(const Json & record) {
    const std::optional<Field> field = find_field(record, {"num_hops"});
    if (!field) {
        return 0;
    }
    const Json & value = *field->value;
    if (!value.is_number_integer() || value.get<long long>() < 0 ||
        value.get<long long>() > std::numeric_limits<int>::max()) {
        reject("field \"num_hops\" must be a non-negative integer, found {}", value.dump());
    }
    return value.get<int>();
}

ClaimRecord claim_from_json(const Json & record, const ClaimFields & fields) {
    require_object(record);

    ClaimRecord result;
    result.claim.text = required_text(record, {"claim"});
    result.claim.id = optional_id(record, fields.id);
    set_claim_label(find_field(record, fields.label), result);
    result.claim.evidence = optional_evidence(record, fields.evidence);
    if (fields.has_num_hops) {
        result.claim.num_hops = optional_num_hops(record);
    }
    return result;
}

void add_claim(ClaimRecord record, const ClaimReadOptions & options, ClaimSet & set) {
    if (record.not_enough_info && !options.keep_not_enough_info) {
        ++set.stats.skipped_label;
        return;
    }
    set.claims.push_back(std::move(record.claim));
    ++set.stats.kept;
}

ClaimFormat detect_json_claim_format(const std::optional<Json> & first) {
    if (!first) {
        return ClaimFormat::Jsonl;
    }
    if (first->contains("uid") || first->contains("num_hops")) {
        return ClaimFormat::Hover;
    }

    const auto evidence = first->find("evidence");
    const bool evidence_is_text = evidence != first->end() && evidence->is_string();
    if (first->contains("gold_label") || first->contains("evidence_sentence") || evidence_is_text) {
        return ClaimFormat::FeverSymmetric;
    }

    const auto label = first->find("label");
    if (label != first->end() && label->is_string()) {
        const auto & text = label->get_ref<const std::string &>();
        if (text == "SUPPORTS" || text == "REFUTES" || text == "NOT ENOUGH INFO") {
            return ClaimFormat::Fever;
        }
    }
    return ClaimFormat::Jsonl;
}

bool has_csv_extension(const std::filesystem::path & path) {
    return to_lower_ascii(path.extension().string()) == ".csv";
}

void read_json_claims(std::string_view text, const std::filesystem::path & path,
                      const ClaimReadOptions & options, ClaimSet & set) {
    const JsonRecordFile file(text, path);
    set.format =
        options.format == ClaimFormat::Auto ? detect_json_claim_format(file.first_object()) : options.format;

    const ClaimFields & fields = claim_fields(set.format);
    file.for_each(options.skip_invalid, set.stats,
                  [&](const Json & record) { add_claim(claim_from_json(record, fields), options, set); });
}

// Return the lower-case column names of a claims CSV header row.
std::vector<std::string> csv_column_names(const CsvRecord & header, const std::filesystem::path & path) {
    if (!header.error.empty()) {
        fail("{}:{}: malformed header row, {}", path.string(), header.line, header.error);
    }

    std::vector<std::string> names;
    for (const std::string & field : header.fields) {
        names.push_back(to_lower_ascii(trim_whitespace(field)));
    }
    if (std::find(names.begin(), names.end(), "claim") == names.end()) {
        fail(
            "{}:{}: the header row has no \"claim\" column (found: {}); name the column of claim texts "
            "\"claim\"",
            path.string(), header.line, join_strings(header.fields, ", "));
    }
    return names;
}

// Convert a CSV row to the JSON object that claim_from_json() reads. Empty cells
// other than the claim are left out, so they mean "absent", and num_hops becomes
// an integer when it is one.
Json csv_row_to_json(const CsvRecord & row, const std::vector<std::string> & columns) {
    if (!row.error.empty()) {
        reject("{}", row.error);
    }
    if (row.fields.size() != columns.size()) {
        reject(
            "record has {} fields but the header has {}; enclose fields that contain commas in double quotes",
            row.fields.size(), columns.size());
    }

    Json record = Json::object();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const std::string & value = row.fields[i];
        if (columns[i] != "claim" && is_blank(value)) {
            continue;
        }
        const std::optional<long long> number =
            columns[i] == "num_hops" ? parse_integer(trim_whitespace(value)) : std::nullopt;
        record[columns[i]] = number ? Json(*number) : Json(value);
    }
    return record;
}

void read_csv_claims(std::string_view text, const std::filesystem::path & path,
                     const ClaimReadOptions & options, ClaimSet & set) {
    set.format = ClaimFormat::Csv;
    const std::vector<CsvRecord> records = parse_csv(text, path.string());
    if (records.empty()) {
        return;
    }

    const std::vector<std::string> columns = csv_column_names(records.front(), path);
    const ClaimFields & fields = claim_fields(ClaimFormat::Csv);
    for (std::size_t i = 1; i < records.size(); ++i) {
        const std::string location = fmt::format("{}:{}", path.string(), records[i].line);
        process_record(location, options.skip_invalid, set.stats, [&] {
            add_claim(claim_from_json(csv_row_to_json(records[i], columns), fields), options, set);
        });
    }
}

// ---------------------------------------------------------------------------
// NLI

struct NliRecord {
    NliPair pair;
    bool no_gold_label = false;
};

void set_nli_label_from_integer(long long value, NliRecord & record) {
    if (value == -1) {
        record.no_gold_label = true;
    } else if (value >= 0 && value <= 2) {
        record.pair.label = static_cast<NliLabel>(value);
    } else {
        reject("unknown label {}; accepted labels: {}", value, kAcceptedNliLabels);
    }
}

void set_nli_label(const std::optional<Field> & field, NliRecord & record) {
    if (!field) {
        return;
    }

    const Json & value = *field->value;
    if (value.is_number_integer()) {
        set_nli_label_from_integer(value.get<long long>(), record);
        return;
    }
    if (!value.is_string()) {
        reject("field \"{}\" must be a string or integer, found a JSON {}", field->name, value.type_name());
    }

    const auto & raw = value.get_ref<const std::string &>();
    const std::string label = to_lower_ascii(trim_whitespace(raw));
    if (label == "entailment") {
        record.pair.label = NliLabel::Entailment;
    } else if (label == "neutral") {
        record.pair.label = NliLabel::Neutral;
    } else if (label == "contradiction") {
        record.pair.label = NliLabel::Contradiction;
    } else if (label == "-") {
        record.no_gold_label = true;
    } else {
        reject("unknown label \"{}\"; accepted labels: {}", raw, kAcceptedNliLabels);
    }
}

NliRecord nli_from_json(const Json & record) {
    require_object(record);

    NliRecord result;
    result.pair.premise = required_text(record, {"premise", "sentence1"});
    result.pair.hypothesis = required_text(record, {"hypothesis", "sentence2"});
    set_nli_label(find_field(record, {"label", "gold_label"}), result);
    return result;
}

// ---------------------------------------------------------------------------
// Multiple choice

constexpr std::array<FormatName<McFormat>, 3> kMcFormatNames{{
    {McFormat::Piqa, "piqa"},
    {McFormat::Siqa, "siqa"},
    {McFormat::Obqa, "obqa"},
}};

// Return text with one space in front, the separator between context and choice.
std::string space_before(std::string_view text) {
    std::string result(" ");
    result += text;
    return result;
}

// Context and choices of one PIQA or SIQA record; the gold index comes from the
// labels file.
McQuestion mc_question_from_json(McFormat format, const Json & record) {
    require_object(record);

    McQuestion question;
    if (format == McFormat::Piqa) {
        question.context = fmt::format("Question: {}\nAnswer:", required_text(record, {"goal"}));
        for (const char * name : {"sol1", "sol2"}) {
            question.choices.push_back(space_before(required_text(record, {name})));
        }
        return question;
    }

    const std::string context = required_text(record, {"context"});
    const std::string prompt = required_text(record, {"question"});
    question.context = fmt::format("Q: {} {}\nA:", context, prompt);
    for (const char * name : {"answerA", "answerB", "answerC"}) {
        question.choices.push_back(space_before(required_text(record, {name})));
    }
    return question;
}

// Read one integer label per non-blank line, each from min_label to max_label,
// and return them shifted to start at 0.
std::vector<int> read_answer_labels(const std::filesystem::path & path, int min_label, int max_label) {
    const std::vector<std::string> lines = read_lines(path);

    std::vector<int> labels;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view text = trim_whitespace(lines[i]);
        if (text.empty()) {
            continue;
        }
        const std::optional<long long> value = parse_integer(text);
        if (!value || *value < min_label || *value > max_label) {
            fail("{}:{}: invalid label \"{}\"; expected an integer from {} to {}", path.string(), i + 1, text,
                 min_label, max_label);
        }
        labels.push_back(static_cast<int>(*value - min_label));
    }
    return labels;
}

std::filesystem::path resolve_labels_path(const std::filesystem::path & data_path,
                                          const std::filesystem::path & labels_path) {
    if (!labels_path.empty()) {
        return labels_path;
    }

    const std::filesystem::path standard = default_mc_labels_path(data_path);
    if (!std::filesystem::exists(standard)) {
        fail("labels file not found: {} (the standard name beside {}); pass the labels file explicitly",
             standard.string(), data_path.string());
    }
    return standard;
}

std::vector<McQuestion> read_labelled_jsonl(McFormat format, const std::filesystem::path & data_path,
                                            const std::filesystem::path & labels_path) {
    const std::string bytes = read_text_file(data_path);
    const JsonRecordFile file(strip_utf8_bom(bytes), data_path);

    std::vector<McQuestion> questions;
    ReadStats stats;
    file.for_each(false, stats,
                  [&](const Json & record) { questions.push_back(mc_question_from_json(format, record)); });

    const std::filesystem::path labels_file = resolve_labels_path(data_path, labels_path);
    const int min_label = format == McFormat::Piqa ? 0 : 1;
    const int max_label = format == McFormat::Piqa ? 1 : 3;
    const std::vector<int> labels = read_answer_labels(labels_file, min_label, max_label);
    if (labels.size() != questions.size()) {
        fail("{} has {} questions but {} has {} labels; pass the labels file that belongs to this data file",
             data_path.string(), questions.size(), labels_file.string(), labels.size());
    }

    for (std::size_t i = 0; i < questions.size(); ++i) {
        questions[i].gold = labels[i];
    }
    return questions;
}

// Split OpenBookQA's "(A) first (B) second (C) third (D) fourth" into the choice
// texts. The labels are consecutive letters from A, so choice i has letter 'A' + i.
std::vector<std::string> split_obqa_choices(std::string_view text) {
    text = trim_whitespace(text);
    if (!text.starts_with("(A) ")) {
        reject("choices \"{}\" do not start with \"(A) \"; write them as \"(A) text (B) text ...\"", text);
    }

    std::vector<std::string> choices;
    std::size_t start = 4;
    for (char letter = 'B';; ++letter) {
        const std::string marker = fmt::format(" ({}) ", letter);
        const std::size_t end = text.find(marker, start);
        choices.emplace_back(trim_whitespace(
            text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + marker.size();
    }

    if (choices.size() < 2) {
        reject("choices \"{}\" hold fewer than two options; write them as \"(A) text (B) text ...\"", text);
    }
    return choices;
}

std::size_t find_tsv_column(const std::vector<std::string> & header, std::string_view name,
                            const std::filesystem::path & path) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
        fail("{}:1: the header row has no \"{}\" column (found: {}); is this an OpenBookQA TSV file?",
             path.string(), name, join_strings(header, ", "));
    }
    return static_cast<std::size_t>(it - header.begin());
}

McQuestion obqa_question(const std::vector<std::string> & fields, std::size_t stem_column,
                         std::size_t choices_column, std::size_t answer_column) {
    McQuestion question;
    question.context = fields[stem_column];
    if (is_blank(question.context)) {
        reject("empty question stem");
    }

    for (const std::string & choice : split_obqa_choices(fields[choices_column])) {
        question.choices.push_back(space_before(choice));
    }

    const std::string_view answer = trim_whitespace(fields[answer_column]);
    const int gold = answer.size() == 1 ? answer.front() - 'A' : -1;
    if (gold < 0 || gold >= static_cast<int>(question.choices.size())) {
        reject("answer key \"{}\" is not one of the choice letters A to {}", answer,
               static_cast<char>('A' + question.choices.size() - 1));
    }
    question.gold = gold;
    return question;
}

std::vector<McQuestion> read_obqa(const std::filesystem::path & data_path) {
    const std::vector<std::string> lines = read_lines(data_path);
    if (lines.empty()) {
        fail("{} is empty; expected an OpenBookQA TSV file with a header row", data_path.string());
    }

    const std::vector<std::string> header = split_string(lines.front(), '\t');
    const std::size_t stem_column = find_tsv_column(header, "Question Stem", data_path);
    const std::size_t choices_column = find_tsv_column(header, "Choices", data_path);
    const std::size_t answer_column = find_tsv_column(header, "Answer Key", data_path);

    std::vector<McQuestion> questions;
    ReadStats stats;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (is_blank(lines[i])) {
            continue;
        }
        process_record(fmt::format("{}:{}", data_path.string(), i + 1), false, stats, [&] {
            const std::vector<std::string> fields = split_string(lines[i], '\t');
            if (fields.size() != header.size()) {
                reject("record has {} tab-separated fields but the header has {}", fields.size(),
                       header.size());
            }
            questions.push_back(obqa_question(fields, stem_column, choices_column, answer_column));
        });
    }
    return questions;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

ClaimFormat parse_claim_format(std::string_view name) {
    return format_from_name(kClaimFormatNames, name, "claim");
}

std::string_view claim_format_name(ClaimFormat format) {
    return name_of_format(kClaimFormatNames, format);
}

ClaimSet read_claims(const std::filesystem::path & path, const ClaimReadOptions & options) {
    const std::string bytes = read_text_file(path);
    const std::string_view text = strip_utf8_bom(bytes);

    ClaimSet set;
    const bool is_csv = options.format == ClaimFormat::Csv ||
                        (options.format == ClaimFormat::Auto && has_csv_extension(path));
    if (is_csv) {
        read_csv_claims(text, path, options, set);
    } else {
        read_json_claims(text, path, options, set);
    }
    return set;
}

std::string_view nli_label_name(NliLabel label) {
    switch (label) {
        case NliLabel::Entailment:
            return "entailment";
        case NliLabel::Neutral:
            return "neutral";
        case NliLabel::Contradiction:
            return "contradiction";
    }
    return "unknown";
}

NliSet read_nli(const std::filesystem::path & path, const NliReadOptions & options) {
    const std::string bytes = read_text_file(path);
    const JsonRecordFile file(strip_utf8_bom(bytes), path);

    NliSet set;
    file.for_each(options.skip_invalid, set.stats, [&](const Json & record) {
        NliRecord result = nli_from_json(record);
        if (result.no_gold_label) {
            ++set.stats.skipped_label;
            return;
        }
        set.pairs.push_back(std::move(result.pair));
        ++set.stats.kept;
    });
    return set;
}

McFormat parse_mc_format(std::string_view name) {
    return format_from_name(kMcFormatNames, name, "multiple-choice");
}

std::string_view mc_format_name(McFormat format) {
    return name_of_format(kMcFormatNames, format);
}

std::filesystem::path default_mc_labels_path(const std::filesystem::path & data_path) {
    std::filesystem::path labels = data_path;
    labels.replace_filename(data_path.stem().string() + "-labels.lst");
    return labels;
}

std::vector<McQuestion> read_mc_questions(McFormat format, const std::filesystem::path & data_path,
                                          const std::filesystem::path & labels_path) {
    if (format != McFormat::Obqa) {
        return read_labelled_jsonl(format, data_path, labels_path);
    }

    if (!labels_path.empty()) {
        fail("obqa reads the answer key from the Answer Key column of {}; drop the labels file argument ({})",
             data_path.string(), labels_path.string());
    }
    return read_obqa(data_path);
}

}  // namespace rdt
