// Readers of the multiple-choice sets (PIQA, SIQA, OpenBookQA) declared in
// common/datasets.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/dataset_records.hpp"
#include "common/datasets.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

namespace rdt {

namespace {

using namespace records;

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
