#pragma once
// Readers for the evaluation data: claims (FEVER, FEVER-Symmetric, HOVER, plain
// JSONL or CSV), NLI pairs and multiple-choice questions (PIQA, SIQA, OpenBookQA).
// Files must be UTF-8 (see text.hpp); a leading byte order mark is ignored.
//
// A malformed record raises rdt::Error naming the file and the line (for a JSON
// array, the element's index counting from 0). Claim and NLI readers can instead
// skip malformed records and count them in ReadStats.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rdt {

// Counts of one read. read = kept + skipped_invalid + skipped_label.
struct ReadStats {
    std::size_t read = 0;             // records found in the file
    std::size_t kept = 0;             // records returned
    std::size_t skipped_invalid = 0;  // malformed records skipped (only with skip_invalid)
    std::size_t skipped_label = 0;    // well-formed records left out for their label, e.g. NOT ENOUGH INFO
    // Error messages ("FILE:LINE: reason") of the first kMaxInvalidExamples skipped
    // records, for the caller to log.
    std::vector<std::string> invalid_examples;
};

constexpr std::size_t kMaxInvalidExamples = 5;

// ---------------------------------------------------------------------------
// Claims

struct Claim {
    // "id" (FEVER) or "uid" (HOVER) as written, integers in decimal; empty if absent.
    std::string id;
    std::string text;  // the claim, never blank
    // 1 = true (supported), 0 = false (refuted); nullopt when unlabelled or NOT ENOUGH INFO.
    std::optional<int> label;
    // Evidence sentence text when the record has it as a string (FEVER-Symmetric).
    // FEVER's nested evidence arrays contain page ids, not text, so they are not stored.
    std::string evidence;
    int num_hops = 0;       // HOVER's number of hops; 0 if unknown
    std::string raw_label;  // the label as written in the file; empty if absent
};

// Claim file formats. Every JSON format is read both as JSONL (one object per
// line) and as one JSON array of objects; the first non-blank character decides.
//   fever            id, claim, label (SUPPORTS, REFUTES, NOT ENOUGH INFO), evidence
//   fever-symmetric  id, claim, gold_label or label, evidence or evidence_sentence
//   hover            uid, claim, label (SUPPORTED, NOT_SUPPORTED), num_hops
//   jsonl            claim, and optionally id or uid, label, evidence, num_hops
//   csv              a header row naming the columns claim, and optionally id,
//                    label, evidence, num_hops; RFC 4180 quoting
// All formats accept the same labels, case-insensitively: SUPPORTS, SUPPORTED,
// true and 1 mark a true claim; REFUTES, NOT_SUPPORTED, false and 0 a false one;
// NOT ENOUGH INFO marks a claim that the evidence cannot decide. JSON labels may
// also be booleans or the integers 0 and 1. A missing or null label leaves the
// claim unlabelled.
enum class ClaimFormat {
    Auto,  // detect: see read_claims()
    Fever,
    FeverSymmetric,
    Hover,
    Jsonl,
    Csv,
};

// Parse a format name: auto, fever, fever-symmetric, hover, jsonl or csv. An
// unknown name throws rdt::Error listing the accepted names.
ClaimFormat parse_claim_format(std::string_view name);

// Return the name that parse_claim_format() accepts for format.
std::string_view claim_format_name(ClaimFormat format);

struct ClaimReadOptions {
    ClaimFormat format = ClaimFormat::Auto;
    // Keep NOT ENOUGH INFO claims (with label nullopt) instead of leaving them out
    // and counting them in ReadStats::skipped_label.
    bool keep_not_enough_info = false;
    // Skip malformed records (invalid JSON, missing or empty claim, unknown label,
    // wrong field types) and count them, instead of throwing.
    bool skip_invalid = false;
};

struct ClaimSet {
    std::vector<Claim> claims;
    ClaimFormat format = ClaimFormat::Auto;  // the format read; never Auto
    ReadStats stats;
};

// Read claims from path. An empty file gives no claims. ClaimFormat::Auto picks
// the first match in this list:
//   csv              the file name ends in .csv (any case)
//   hover            the first JSON object has uid or num_hops
//   fever-symmetric  it has gold_label, evidence_sentence or a string evidence
//   fever            its label is exactly SUPPORTS, REFUTES or NOT ENOUGH INFO
//   jsonl            anything else
ClaimSet read_claims(const std::filesystem::path & path, const ClaimReadOptions & options = {});

// ---------------------------------------------------------------------------
// NLI pairs

enum class NliLabel {
    Entailment = 0,
    Neutral = 1,
    Contradiction = 2,
};

// Return "entailment", "neutral" or "contradiction".
std::string_view nli_label_name(NliLabel label);

struct NliPair {
    std::string premise;
    std::string hypothesis;
    std::optional<NliLabel> label;  // nullopt when the record has no label
};

struct NliReadOptions {
    bool skip_invalid = false;  // as in ClaimReadOptions
};

struct NliSet {
    std::vector<NliPair> pairs;
    ReadStats stats;
};

// Read NLI pairs from JSONL or a JSON array with the fields premise, hypothesis
// and label (SNLI's sentence1, sentence2 and gold_label are accepted as well).
// Labels are entailment, neutral or contradiction in any case, or the integers
// 0, 1, 2 in that order (the Hugging Face SNLI and MNLI encoding). Pairs that
// have no gold label ("-" or -1, as SNLI marks them) are left out and counted
// in ReadStats::skipped_label.
NliSet read_nli(const std::filesystem::path & path, const NliReadOptions & options = {});

// ---------------------------------------------------------------------------
// Multiple-choice questions
//
// Each question is scored by the log-likelihood of context + choice for each
// choice. The strings follow lm-evaluation-harness's task definitions, where a
// single space separates context and choice:
//   piqa  context "Question: {goal}\nAnswer:"       choices " {sol1}", " {sol2}"
//   siqa  context "Q: {context} {question}\nA:"      choices " {answerA}", " {answerB}", " {answerC}"
//   obqa  context "{Question Stem}"                  choices " {text}" for each of "(A) text (B) text ..."

struct McQuestion {
    std::string context;
    std::vector<std::string> choices;  // each starts with a space, see above
    int gold = 0;                      // index into choices, counting from 0
};

// Multiple-choice file formats:
//   piqa  JSONL with goal, sol1, sol2, plus a labels file of 0 or 1 per line
//   siqa  JSONL with context, question, answerA, answerB, answerC, plus a labels
//         file of 1, 2 or 3 per line
//   obqa  OpenBookQA TSV with a header row and the columns "Question Stem",
//         "Choices" ("(A) ... (B) ... (C) ... (D) ...") and "Answer Key" (a letter)
enum class McFormat {
    Piqa,
    Siqa,
    Obqa,
};

// Parse a format name: piqa, siqa or obqa. An unknown name throws rdt::Error
// listing the accepted names.
McFormat parse_mc_format(std::string_view name);

// Return the name that parse_mc_format() accepts for format.
std::string_view mc_format_name(McFormat format);

// Return the labels file that PIQA and SIQA ship beside a data file:
// "valid.jsonl" -> "valid-labels.lst" in the same folder.
std::filesystem::path default_mc_labels_path(const std::filesystem::path & data_path);

// Read multiple-choice questions. For piqa and siqa, labels_path is the labels
// file, one label per question in the same order; an empty path selects
// default_mc_labels_path(data_path). obqa reads the answer key from the TSV and
// rejects a labels path.
std::vector<McQuestion> read_mc_questions(McFormat format, const std::filesystem::path & data_path,
                                          const std::filesystem::path & labels_path = {});

}  // namespace rdt
