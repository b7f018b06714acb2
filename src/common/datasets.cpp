#include "common/datasets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/dataset_records.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

namespace rdt {

namespace {

using namespace records;

constexpr std::string_view kAcceptedClaimLabels =
    "SUPPORTS, SUPPORTED, true, 1 (true claim); REFUTES, NOT_SUPPORTED, false, 0 (false claim); "
    "NOT ENOUGH INFO";
constexpr std::string_view kAcceptedNliLabels =
    "entailment, neutral, contradiction (any case), 0, 1, 2, or \"-\" and -1 for no gold label";

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

}  // namespace rdt
