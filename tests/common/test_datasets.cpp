// Tests for common/datasets: claim, NLI and multiple-choice readers, on small
// inline files and on the real shared data.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/datasets.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"

namespace {

namespace fs = std::filesystem;

// Return an empty folder for the running test, so tests run in parallel never
// share files. Calling it again within one test returns the same folder.
fs::path test_dir() {
#ifdef RDT_TEST_TMP_DIR
    const fs::path base = RDT_TEST_TMP_DIR;
#else
    const fs::path base = fs::temp_directory_path();
#endif
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir =
        base / "common_datasets" / (std::string(info->test_suite_name()) + "." + info->name());

    static std::string prepared_for;
    if (prepared_for != dir.string()) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        prepared_for = dir.string();
    }
    return dir;
}

fs::path write_file(const std::string & name, std::string_view bytes) {
    const fs::path path = test_dir() / name;
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// Return the message of the rdt::Error that action throws, or "" if it throws none.
std::string error_message(const std::function<void()> & action) {
    try {
        action();
    } catch (const rdt::Error & error) {
        return error.what();
    }
    return "";
}

::testing::AssertionResult contains(const std::string & text, std::string_view part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

rdt::ClaimSet read_claims_with(const fs::path & path, rdt::ClaimFormat format, bool skip_invalid = false,
                               bool keep_not_enough_info = false) {
    rdt::ClaimReadOptions options;
    options.format = format;
    options.skip_invalid = skip_invalid;
    options.keep_not_enough_info = keep_not_enough_info;
    return rdt::read_claims(path, options);
}

std::size_t count_label(const std::vector<rdt::Claim> & claims, std::optional<int> label) {
    return static_cast<std::size_t>(std::count_if(
        claims.begin(), claims.end(), [&](const rdt::Claim & claim) { return claim.label == label; }));
}

void expect_consistent(const rdt::ReadStats & stats) {
    EXPECT_EQ(stats.read, stats.kept + stats.skipped_invalid + stats.skipped_label);
}

// Skip the running test when the shared data folder lacks relative.
#define RDT_SHARED_OR_SKIP(variable, relative)                          \
    const fs::path variable = rdt::shared_path(relative);               \
    if (!fs::exists(variable)) {                                        \
        GTEST_SKIP() << "shared data not found: " << variable.string(); \
    }

constexpr std::string_view kFeverJsonl =
    R"({"id": 137334, "verifiable": "VERIFIABLE", "label": "SUPPORTS", "claim": "Fox 2000 Pictures released the film Soul Food.", "evidence": [[[289914, 283015, "Soul_Food_-LRB-film-RRB-", 0]]]})"
    "\n"
    R"({"id": 111897, "verifiable": "VERIFIABLE", "label": "REFUTES", "claim": "Telemundo is a English-language television network.", "evidence": [[[131371, 146144, "Telemundo", 0]]]})"
    "\n"
    R"({"id": 91198, "verifiable": "NOT VERIFIABLE", "label": "NOT ENOUGH INFO", "claim": "Colin Kaepernick became a starting quarterback.", "evidence": [[[108548, null, null, null]]]})"
    "\n";

}  // namespace

// ---------------------------------------------------------------------------
// Format names

TEST(DatasetFormatName, ParsesEveryClaimFormat) {
    EXPECT_EQ(rdt::parse_claim_format("auto"), rdt::ClaimFormat::Auto);
    EXPECT_EQ(rdt::parse_claim_format("fever"), rdt::ClaimFormat::Fever);
    EXPECT_EQ(rdt::parse_claim_format("fever-symmetric"), rdt::ClaimFormat::FeverSymmetric);
    EXPECT_EQ(rdt::parse_claim_format("hover"), rdt::ClaimFormat::Hover);
    EXPECT_EQ(rdt::parse_claim_format("jsonl"), rdt::ClaimFormat::Jsonl);
    EXPECT_EQ(rdt::parse_claim_format("csv"), rdt::ClaimFormat::Csv);
}

TEST(DatasetFormatName, ClaimNameRoundTrips) {
    for (const char * name : {"auto", "fever", "fever-symmetric", "hover", "jsonl", "csv"}) {
        EXPECT_EQ(rdt::claim_format_name(rdt::parse_claim_format(name)), name);
    }
}

TEST(DatasetFormatName, UnknownClaimFormatListsNames) {
    const std::string message = error_message([] { rdt::parse_claim_format("feverous"); });

    EXPECT_TRUE(contains(message, "\"feverous\""));
    EXPECT_TRUE(contains(message, "auto, fever, fever-symmetric, hover, jsonl, csv"));
}

TEST(DatasetFormatName, McFormats) {
    EXPECT_EQ(rdt::parse_mc_format("piqa"), rdt::McFormat::Piqa);
    EXPECT_EQ(rdt::parse_mc_format("siqa"), rdt::McFormat::Siqa);
    EXPECT_EQ(rdt::parse_mc_format("obqa"), rdt::McFormat::Obqa);
    EXPECT_EQ(rdt::mc_format_name(rdt::McFormat::Siqa), "siqa");

    const std::string message = error_message([] { rdt::parse_mc_format("hellaswag"); });
    EXPECT_TRUE(contains(message, "\"hellaswag\""));
    EXPECT_TRUE(contains(message, "piqa, siqa, obqa"));
}

// ---------------------------------------------------------------------------
// FEVER

TEST(DatasetFever, JsonlDropsNotEnoughInfo) {
    const fs::path path = write_file("dev.jsonl", kFeverJsonl);

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.stats.read, 3u);
    EXPECT_EQ(set.stats.kept, 2u);
    EXPECT_EQ(set.stats.skipped_label, 1u);
    EXPECT_EQ(set.stats.skipped_invalid, 0u);

    const rdt::Claim & first = set.claims[0];
    EXPECT_EQ(first.id, "137334");
    EXPECT_EQ(first.text, "Fox 2000 Pictures released the film Soul Food.");
    EXPECT_EQ(first.label, 1);
    EXPECT_EQ(first.raw_label, "SUPPORTS");
    EXPECT_EQ(first.evidence, "");  // nested page-id arrays are not evidence text
    EXPECT_EQ(first.num_hops, 0);
    EXPECT_EQ(set.claims[1].label, 0);
    EXPECT_EQ(set.claims[1].raw_label, "REFUTES");
}

TEST(DatasetFever, KeepsNotEnoughInfoOnRequest) {
    const fs::path path = write_file("dev.jsonl", kFeverJsonl);

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Fever, false, true);
    ASSERT_EQ(set.claims.size(), 3u);
    EXPECT_EQ(set.stats.skipped_label, 0u);
    EXPECT_FALSE(set.claims[2].label.has_value());
    EXPECT_EQ(set.claims[2].raw_label, "NOT ENOUGH INFO");
    EXPECT_EQ(set.claims[2].id, "91198");
}

TEST(DatasetFever, JsonArray) {
    const fs::path path = write_file("shared_task_dev.json", R"([
  {
    "id": 137334,
    "claim": "Fox 2000 Pictures released the film Soul Food.",
    "label": "SUPPORTS",
    "evidence_pages": ["Soul_Food_-LRB-film-RRB-"]
  },
  {
    "id": 194462,
    "claim": "Tilda Swinton is a vegan.",
    "label": "NOT ENOUGH INFO",
    "evidence_pages": []
  },
  {
    "id": 219028,
    "claim": "Savages was exclusively a German film.",
    "label": "REFUTES",
    "evidence_pages": ["Savages_-LRB-2012_film-RRB-"]
  }
]
)");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.claims[0].id, "137334");
    EXPECT_EQ(set.claims[1].id, "219028");
    EXPECT_EQ(set.claims[1].label, 0);
    EXPECT_EQ(set.stats.skipped_label, 1u);
    expect_consistent(set.stats);
}

TEST(DatasetFever, ArrayErrorNamesIndex) {
    const fs::path path =
        write_file("bad.json",
                   R"([{"id": 1, "claim": "A claim.", "label": "SUPPORTS"}, {"id": 2, "label": "REFUTES"}])");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ": array index 1"));
    EXPECT_TRUE(contains(message, "missing field \"claim\""));
}

TEST(DatasetFever, ArraySyntaxErrorIsFatal) {
    const fs::path path =
        write_file("broken.json", "[\n  {\"claim\": \"A\", \"label\": \"SUPPORTS\"},\n  {\"claim\": \n]");

    const std::string message = error_message([&] { read_claims_with(path, rdt::ClaimFormat::Fever, true); });
    EXPECT_TRUE(contains(message, path.string()));
    EXPECT_TRUE(contains(message, "invalid JSON"));
    EXPECT_TRUE(contains(message, "line 4"));
}

// ---------------------------------------------------------------------------
// FEVER-Symmetric and HOVER

TEST(DatasetFeverSymmetric, GoldLabelAndEvidence) {
    const fs::path path = write_file(
        "symmetric_dev.jsonl",
        R"({"id": "54253", "claim": "Daggering is associated with the genre of death metal .", "evidence": "It is of recent origin , associated with the 2006 wave of dancehall music .", "sentence1": "x", "sentence2": "y", "gold_label": "REFUTES", "label": "REFUTES", "evid": [["x", 1.0]]})"
        "\n"
        R"({"id": "204361", "claim": "The Cretaceous ended .", "evidence": "The Cretaceous ended with a large mass extinction .", "sentence1": "x", "sentence2": "y", "gold_label": "SUPPORTS", "label": "REFUTES", "evid": []})"
        "\n");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::FeverSymmetric);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.claims[0].id, "54253");
    EXPECT_EQ(set.claims[0].label, 0);
    EXPECT_EQ(set.claims[0].evidence,
              "It is of recent origin , associated with the 2006 wave of dancehall music .");
    // gold_label wins over label when both are present.
    EXPECT_EQ(set.claims[1].label, 1);
    EXPECT_EQ(set.claims[1].raw_label, "SUPPORTS");
}

TEST(DatasetFeverSymmetric, EvidenceSentenceField) {
    const fs::path path = write_file(
        "generated.jsonl",
        R"({"id": "1118970000002", "label": "SUPPORTS", "claim": "Telemundo is a English-language television network .", "evidence_sentence": "Telemundo is an American English-language terrestrial television network ."})"
        "\n");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::FeverSymmetric);
    ASSERT_EQ(set.claims.size(), 1u);
    EXPECT_EQ(set.claims[0].evidence,
              "Telemundo is an American English-language terrestrial television network .");
    EXPECT_EQ(set.claims[0].label, 1);
}

TEST(DatasetFeverSymmetric, ExplicitFeverIgnoresGoldLabel) {
    const fs::path path = write_file(
        "symmetric.jsonl",
        R"({"id": "1", "claim": "A claim .", "evidence": "Some text .", "gold_label": "SUPPORTS", "label": "REFUTES"})"
        "\n");

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Fever);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);
    ASSERT_EQ(set.claims.size(), 1u);
    EXPECT_EQ(set.claims[0].label, 0);
    EXPECT_EQ(set.claims[0].evidence, "Some text .");
}

TEST(DatasetHover, ArrayWithHops) {
    const fs::path path = write_file("hover_dev.json", R"([
  {"uid": "330ca632-e83f-4011-b11b-0d0158145036", "claim": "Skagen Painter Peder Severin Kroyer favored naturalism.", "supporting_facts": [["Kroyer", 0]], "label": "SUPPORTED", "num_hops": 3, "hpqa_id": "5ab7a86d5542995dae37e986"},
  {"uid": "8d3b5c24-5a1b-4d11-ae4b-b7e5d4bf5d26", "claim": "The film was directed by a Frenchman.", "supporting_facts": [], "label": "NOT_SUPPORTED", "num_hops": 2, "hpqa_id": "x"}
])");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Hover);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.claims[0].id, "330ca632-e83f-4011-b11b-0d0158145036");
    EXPECT_EQ(set.claims[0].label, 1);
    EXPECT_EQ(set.claims[0].num_hops, 3);
    EXPECT_EQ(set.claims[1].label, 0);
    EXPECT_EQ(set.claims[1].raw_label, "NOT_SUPPORTED");
    EXPECT_EQ(set.claims[1].num_hops, 2);
}

TEST(DatasetHover, NegativeHopsAreInvalid) {
    const fs::path path = write_file(
        "hover.json", R"([{"uid": "a", "claim": "A claim.", "label": "SUPPORTED", "num_hops": -2}])");

    const std::string message = error_message([&] { read_claims_with(path, rdt::ClaimFormat::Hover); });
    EXPECT_TRUE(contains(message, "array index 0"));
    EXPECT_TRUE(contains(message, "num_hops"));
}

// ---------------------------------------------------------------------------
// Plain JSONL and CSV claims

TEST(DatasetClaimsJsonl, AcceptsEveryLabelSpelling) {
    struct Case {
        const char * label_json;
        std::optional<int> expected;
    };
    const std::vector<Case> cases = {
        {R"("true")", 1},
        {R"("FALSE")", 0},
        {R"("1")", 1},
        {R"("0")", 0},
        {R"(true)", 1},
        {R"(false)", 0},
        {R"(1)", 1},
        {R"(0)", 0},
        {R"("Supports")", 1},
        {R"("refutes")", 0},
        {R"("supported")", 1},
        {R"("Not_Supported")", 0},
        {R"(null)", std::nullopt},
        {R"("")", std::nullopt},
    };

    std::string text;
    for (const Case & test_case : cases) {
        text += std::string(R"({"claim": "A claim.", "label": )") + test_case.label_json + "}\n";
    }
    text += "{\"claim\": \"No label at all.\"}\n";
    const fs::path path = write_file("claims.jsonl", text);

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Jsonl);
    ASSERT_EQ(set.claims.size(), cases.size() + 1);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(set.claims[i].label, cases[i].expected) << "label " << cases[i].label_json;
    }
    EXPECT_FALSE(set.claims.back().label.has_value());
    EXPECT_EQ(set.claims.back().raw_label, "");
    EXPECT_EQ(set.claims[4].raw_label, "true");
}

TEST(DatasetClaimsJsonl, OptionalFields) {
    const fs::path path = write_file(
        "claims.jsonl",
        R"({"id": "c1", "claim": "Water boils at 100 C.", "label": "true", "evidence": "At sea level.", "num_hops": 1})"
        "\n"
        R"({"uid": 7, "claim": "The moon is cheese."})"
        "\n");

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Jsonl);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.claims[0].id, "c1");
    EXPECT_EQ(set.claims[0].evidence, "At sea level.");
    EXPECT_EQ(set.claims[0].num_hops, 1);
    EXPECT_EQ(set.claims[1].id, "7");
    EXPECT_FALSE(set.claims[1].label.has_value());
}

TEST(DatasetClaimsCsv, QuotedFieldsAndCrLf) {
    const fs::path path = write_file("claims.CSV",
                                     "id,claim,label,evidence\r\n"
                                     "a1,\"Paris is in France, Europe.\",true,\r\n"
                                     "a2,\"He said \"\"no\"\".\",0,\"line one\r\nline two\"\r\n"
                                     "a3,Unlabelled claim.,,\r\n");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Csv);
    ASSERT_EQ(set.claims.size(), 3u);
    EXPECT_EQ(set.claims[0].id, "a1");
    EXPECT_EQ(set.claims[0].text, "Paris is in France, Europe.");
    EXPECT_EQ(set.claims[0].label, 1);
    EXPECT_EQ(set.claims[1].text, "He said \"no\".");
    EXPECT_EQ(set.claims[1].label, 0);
    EXPECT_EQ(set.claims[1].evidence, "line one\r\nline two");
    EXPECT_FALSE(set.claims[2].label.has_value());
}

TEST(DatasetClaimsCsv, HeaderNeedsClaimColumn) {
    const fs::path path = write_file("claims.csv", "text,label\nA claim.,true\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ":1"));
    EXPECT_TRUE(contains(message, "no \"claim\" column"));
    EXPECT_TRUE(contains(message, "text, label"));
}

TEST(DatasetClaimsCsv, FieldCountErrorNamesLine) {
    const fs::path path = write_file("claims.csv", "claim,label\nFine claim.,true\nUnquoted, comma,false\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ":3"));
    EXPECT_TRUE(contains(message, "3 fields but the header has 2"));
}

TEST(DatasetClaimsCsv, SkipsMalformedRecords) {
    const fs::path path = write_file("claims.csv",
                                     "claim,label\n"
                                     "Good claim.,SUPPORTS\n"
                                     "Bad \"quote\",true\n"
                                     "   ,false\n"
                                     "Another claim.,NOT ENOUGH INFO\n"
                                     "Last claim.,refutes\n");

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Auto, true);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.stats.read, 5u);
    EXPECT_EQ(set.stats.skipped_invalid, 2u);
    EXPECT_EQ(set.stats.skipped_label, 1u);
    ASSERT_EQ(set.stats.invalid_examples.size(), 2u);
    EXPECT_TRUE(contains(set.stats.invalid_examples[0], path.string() + ":3"));
    EXPECT_TRUE(contains(set.stats.invalid_examples[1], path.string() + ":4: field \"claim\" is empty"));
    expect_consistent(set.stats);
}

// ---------------------------------------------------------------------------
// Malformed claim records

TEST(DatasetClaims, MalformedLineNamesFileAndLine) {
    const fs::path path = write_file("claims.jsonl",
                                     "{\"claim\": \"First.\", \"label\": \"SUPPORTS\"}\n"
                                     "{\"claim\": \"Second.\", \"label\": \"REFUTES\"}\n"
                                     "{\"claim\": \"Third.\", \"label\": SUPPORTS}\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ":3:"));
    EXPECT_TRUE(contains(message, "invalid JSON at column"));
}

TEST(DatasetClaims, BlankLinesKeepLineNumbers) {
    const fs::path path =
        write_file("claims.jsonl", "\r\n{\"claim\": \"First.\"}\r\n\r\n\r\n{\"claim\": 5}\r\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ":5:"));
    EXPECT_TRUE(contains(message, "field \"claim\" must be a string"));
}

TEST(DatasetClaims, SkipInvalidCountsEachKind) {
    const fs::path path = write_file("claims.jsonl",
                                     "{\"claim\": \"Kept one.\", \"label\": \"SUPPORTS\"}\n"
                                     "{\"claim\": \"Broken\n"
                                     "{\"claim\": \"\", \"label\": \"REFUTES\"}\n"
                                     "{\"claim\": \"Odd label.\", \"label\": \"MAYBE\"}\n"
                                     "[\"not\", \"an\", \"object\"]\n"
                                     "{\"label\": \"SUPPORTS\"}\n"
                                     "{\"claim\": \"Undecided.\", \"label\": \"NOT ENOUGH INFO\"}\n"
                                     "{\"claim\": \"Kept two.\", \"label\": \"REFUTES\"}\n");

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Fever, true);
    ASSERT_EQ(set.claims.size(), 2u);
    EXPECT_EQ(set.claims[0].text, "Kept one.");
    EXPECT_EQ(set.claims[1].text, "Kept two.");
    EXPECT_EQ(set.stats.read, 8u);
    EXPECT_EQ(set.stats.kept, 2u);
    EXPECT_EQ(set.stats.skipped_invalid, 5u);
    EXPECT_EQ(set.stats.skipped_label, 1u);
    ASSERT_EQ(set.stats.invalid_examples.size(), 5u);
    EXPECT_TRUE(contains(set.stats.invalid_examples[0], ":2: invalid JSON"));
    EXPECT_TRUE(contains(set.stats.invalid_examples[1], ":3: field \"claim\" is empty"));
    EXPECT_TRUE(contains(set.stats.invalid_examples[2], ":4: unknown label \"MAYBE\""));
    EXPECT_TRUE(contains(set.stats.invalid_examples[3], ":5: record is a JSON array"));
    EXPECT_TRUE(contains(set.stats.invalid_examples[4], ":6: missing field \"claim\""));
    expect_consistent(set.stats);
}

TEST(DatasetClaims, InvalidExamplesAreCapped) {
    std::string text;
    for (int i = 0; i < 12; ++i) {
        text += "{\"claim\": \"\"}\n";
    }
    const fs::path path = write_file("claims.jsonl", text);

    const rdt::ClaimSet set = read_claims_with(path, rdt::ClaimFormat::Jsonl, true);
    EXPECT_TRUE(set.claims.empty());
    EXPECT_EQ(set.stats.skipped_invalid, 12u);
    EXPECT_EQ(set.stats.invalid_examples.size(), rdt::kMaxInvalidExamples);
}

TEST(DatasetClaims, UnknownLabelListsAccepted) {
    const fs::path path = write_file("claims.jsonl", "{\"claim\": \"A claim.\", \"label\": \"MAYBE\"}\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, path.string() + ":1:"));
    EXPECT_TRUE(contains(message, "unknown label \"MAYBE\""));
    for (const char * label :
         {"SUPPORTS", "SUPPORTED", "REFUTES", "NOT_SUPPORTED", "NOT ENOUGH INFO", "true", "false"}) {
        EXPECT_TRUE(contains(message, label));
    }
}

TEST(DatasetClaims, UnknownIntegerLabel) {
    const fs::path path = write_file("claims.jsonl", "{\"claim\": \"A claim.\", \"label\": 2}\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, "unknown label \"2\""));
}

TEST(DatasetClaims, EmptyClaimIsInvalid) {
    const fs::path path =
        write_file("claims.jsonl", "{\"id\": 3, \"claim\": \"  \\t \", \"label\": \"SUPPORTS\"}\n");

    const std::string message = error_message([&] { read_claims_with(path, rdt::ClaimFormat::Fever); });
    EXPECT_TRUE(contains(message, path.string() + ":1:"));
    EXPECT_TRUE(contains(message, "field \"claim\" is empty"));
}

TEST(DatasetClaims, InvalidUtf8NamesOffsetAndLine) {
    const fs::path path = write_file("claims.jsonl", "{\"claim\": \"ok\"}\n{\"claim\": \"caf\xE9\"}\n");

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, "invalid UTF-8 at byte offset 30"));
    EXPECT_TRUE(contains(message, "line 2"));
    EXPECT_TRUE(contains(message, "iconv"));
}

TEST(DatasetClaims, ByteOrderMarkAndEmptyFile) {
    const fs::path with_bom =
        write_file("bom.jsonl", "\xEF\xBB\xBF{\"claim\": \"A claim.\", \"label\": \"SUPPORTS\"}\n");
    const rdt::ClaimSet set = rdt::read_claims(with_bom);
    ASSERT_EQ(set.claims.size(), 1u);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);

    const fs::path empty = write_file("empty.jsonl", "");
    const rdt::ClaimSet none = rdt::read_claims(empty);
    EXPECT_TRUE(none.claims.empty());
    EXPECT_EQ(none.stats.read, 0u);
}

TEST(DatasetClaims, MissingFileNamesPath) {
    const fs::path path = test_dir() / "absent.jsonl";

    const std::string message = error_message([&] { rdt::read_claims(path); });
    EXPECT_TRUE(contains(message, "not found"));
    EXPECT_TRUE(contains(message, path.string()));
}

// ---------------------------------------------------------------------------
// NLI

TEST(DatasetNli, StringLabels) {
    const fs::path path = write_file(
        "nli.jsonl",
        R"({"premise": "Two women are embracing.", "hypothesis": "Two woman are holding packages.", "label": "entailment"})"
        "\n"
        R"({"premise": "A man sleeps.", "hypothesis": "A man runs.", "label": "Contradiction"})"
        "\n"
        R"({"premise": "A dog.", "hypothesis": "A brown dog.", "label": "neutral"})"
        "\n");

    const rdt::NliSet set = rdt::read_nli(path);
    ASSERT_EQ(set.pairs.size(), 3u);
    EXPECT_EQ(set.pairs[0].premise, "Two women are embracing.");
    EXPECT_EQ(set.pairs[0].hypothesis, "Two woman are holding packages.");
    EXPECT_EQ(set.pairs[0].label, rdt::NliLabel::Entailment);
    EXPECT_EQ(set.pairs[1].label, rdt::NliLabel::Contradiction);
    EXPECT_EQ(set.pairs[2].label, rdt::NliLabel::Neutral);
    EXPECT_EQ(rdt::nli_label_name(rdt::NliLabel::Neutral), "neutral");
}

TEST(DatasetNli, IntegerLabelsAndSnliNames) {
    const fs::path path = write_file("nli.jsonl", R"({"sentence1": "P0", "sentence2": "H0", "gold_label": 0})"
                                                  "\n"
                                                  R"({"sentence1": "P1", "sentence2": "H1", "gold_label": 1})"
                                                  "\n"
                                                  R"({"sentence1": "P2", "sentence2": "H2", "gold_label": 2})"
                                                  "\n"
                                                  R"({"premise": "P3", "hypothesis": "H3"})"
                                                  "\n");

    const rdt::NliSet set = rdt::read_nli(path);
    ASSERT_EQ(set.pairs.size(), 4u);
    EXPECT_EQ(set.pairs[0].label, rdt::NliLabel::Entailment);
    EXPECT_EQ(set.pairs[1].label, rdt::NliLabel::Neutral);
    EXPECT_EQ(set.pairs[2].label, rdt::NliLabel::Contradiction);
    EXPECT_EQ(set.pairs[2].premise, "P2");
    EXPECT_FALSE(set.pairs[3].label.has_value());
}

TEST(DatasetNli, NoGoldLabelIsLeftOut) {
    const fs::path path = write_file("nli.jsonl", R"({"premise": "P", "hypothesis": "H", "label": "-"})"
                                                  "\n"
                                                  R"({"premise": "P", "hypothesis": "H", "label": -1})"
                                                  "\n"
                                                  R"({"premise": "P", "hypothesis": "H", "label": "neutral"})"
                                                  "\n");

    const rdt::NliSet set = rdt::read_nli(path);
    EXPECT_EQ(set.pairs.size(), 1u);
    EXPECT_EQ(set.stats.skipped_label, 2u);
    EXPECT_EQ(set.stats.read, 3u);
}

TEST(DatasetNli, UnknownLabelListsAccepted) {
    const fs::path path = write_file("nli.jsonl",
                                     "{\"premise\": \"P\", \"hypothesis\": \"H\", \"label\": \"neutral\"}\n"
                                     "{\"premise\": \"P\", \"hypothesis\": \"H\", \"label\": \"entails\"}\n");

    const std::string message = error_message([&] { rdt::read_nli(path); });
    EXPECT_TRUE(contains(message, path.string() + ":2:"));
    EXPECT_TRUE(contains(message, "unknown label \"entails\""));
    EXPECT_TRUE(contains(message, "entailment, neutral, contradiction"));
}

TEST(DatasetNli, SkipInvalidCounts) {
    const fs::path path = write_file("nli.jsonl",
                                     "{\"premise\": \"P\", \"hypothesis\": \"H\", \"label\": \"neutral\"}\n"
                                     "{\"premise\": \"P\", \"label\": \"neutral\"}\n"
                                     "{\"premise\": \"P\", \"hypothesis\": \"H\", \"label\": 7}\n");

    rdt::NliReadOptions options;
    options.skip_invalid = true;
    const rdt::NliSet set = rdt::read_nli(path, options);
    EXPECT_EQ(set.pairs.size(), 1u);
    EXPECT_EQ(set.stats.skipped_invalid, 2u);
    ASSERT_EQ(set.stats.invalid_examples.size(), 2u);
    EXPECT_TRUE(contains(set.stats.invalid_examples[0], ":2: missing field \"hypothesis\" or \"sentence2\""));
    EXPECT_TRUE(contains(set.stats.invalid_examples[1], ":3: unknown label 7"));
    expect_consistent(set.stats);
}

// ---------------------------------------------------------------------------
// Multiple choice

TEST(DatasetMc, PiqaTemplateAndLabelsBeside) {
    const fs::path data = write_file(
        "valid.jsonl",
        R"({"id": "a", "goal": "Make outdoor pillow.", "sol1": "Blow into tin can.", "sol2": "Blow into trash bag."})"
        "\n"
        R"({"id": "b", "goal": "dresser", "sol1": "replace drawer", "sol2": "finish with wax"})"
        "\n");
    write_file("valid-labels.lst", "1\n0\n");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Piqa, data);
    ASSERT_EQ(questions.size(), 2u);
    EXPECT_EQ(questions[0].context, "Question: Make outdoor pillow.\nAnswer:");
    EXPECT_EQ(questions[0].choices,
              (std::vector<std::string>{" Blow into tin can.", " Blow into trash bag."}));
    EXPECT_EQ(questions[0].gold, 1);
    EXPECT_EQ(questions[1].gold, 0);
}

TEST(DatasetMc, SiqaGoldCountsFromZero) {
    const fs::path data = write_file(
        "dev.jsonl",
        R"({"context": "Tracy didn't go home that evening.", "question": "What does Tracy need to do before this?", "answerA": "make a new plan", "answerB": "Go home", "answerC": "Find somewhere to go"})"
        "\n");
    const fs::path labels = write_file("answers.txt", "3\n");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Siqa, data, labels);
    ASSERT_EQ(questions.size(), 1u);
    EXPECT_EQ(questions[0].context,
              "Q: Tracy didn't go home that evening. What does Tracy need to do before this?\nA:");
    EXPECT_EQ(questions[0].choices,
              (std::vector<std::string>{" make a new plan", " Go home", " Find somewhere to go"}));
    EXPECT_EQ(questions[0].gold, 2);
}

TEST(DatasetMc, ObqaChoicesAndAnswerKey) {
    const fs::path data =
        write_file("dev.tsv",
                   "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n"
                   "7-57\tGas can fill any container it is given, and liquid\t(A) is standard weight and "
                   "size (B) is the "
                   "opposite of variable (C) only needs a few (D) uses what it needs\tignored\tD\n"
                   "959\tA compass arrow points\t(A) west (B) north\tignored\tB\n");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Obqa, data);
    ASSERT_EQ(questions.size(), 2u);
    EXPECT_EQ(questions[0].context, "Gas can fill any container it is given, and liquid");
    EXPECT_EQ(questions[0].choices,
              (std::vector<std::string>{" is standard weight and size", " is the opposite of variable",
                                        " only needs a few", " uses what it needs"}));
    EXPECT_EQ(questions[0].gold, 3);
    EXPECT_EQ(questions[1].choices.size(), 2u);
    EXPECT_EQ(questions[1].gold, 1);
}

TEST(DatasetMc, ObqaAnswerOutsideChoices) {
    const fs::path data = write_file("dev.tsv",
                                     "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n"
                                     "1\tStem\t(A) one (B) two\tx\tC\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Obqa, data); });
    EXPECT_TRUE(contains(message, data.string() + ":2:"));
    EXPECT_TRUE(contains(message, "answer key \"C\""));
}

TEST(DatasetMc, ObqaRejectsLabelsFile) {
    const fs::path data =
        write_file("dev.tsv", "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n");
    const fs::path labels = write_file("labels.lst", "1\n");

    const std::string message =
        error_message([&] { rdt::read_mc_questions(rdt::McFormat::Obqa, data, labels); });
    EXPECT_TRUE(contains(message, "Answer Key"));
}

TEST(DatasetMc, ObqaHeaderNeedsColumns) {
    const fs::path data = write_file("dev.tsv", "id\tquestion\tanswer\n1\tq\tA\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Obqa, data); });
    EXPECT_TRUE(contains(message, data.string() + ":1:"));
    EXPECT_TRUE(contains(message, "\"Question Stem\""));
}

TEST(DatasetMc, MissingLabelsFileNamesStandardPath) {
    const fs::path data = write_file("train.jsonl", R"({"goal": "g", "sol1": "a", "sol2": "b"})"
                                                    "\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Piqa, data); });
    EXPECT_TRUE(contains(message, (test_dir() / "train-labels.lst").string()));
    EXPECT_TRUE(contains(message, "not found"));
    EXPECT_EQ(rdt::default_mc_labels_path("/data/siqa/dev.jsonl"), fs::path("/data/siqa/dev-labels.lst"));
}

TEST(DatasetMc, LabelCountMismatch) {
    const fs::path data = write_file("valid.jsonl", R"({"goal": "g", "sol1": "a", "sol2": "b"})"
                                                    "\n");
    write_file("valid-labels.lst", "0\n1\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Piqa, data); });
    EXPECT_TRUE(contains(message, "1 questions"));
    EXPECT_TRUE(contains(message, "2 labels"));
}

TEST(DatasetMc, LabelOutOfRangeNamesLine) {
    const fs::path data = write_file(
        "dev.jsonl", R"({"context": "c", "question": "q", "answerA": "a", "answerB": "b", "answerC": "c"})"
                     "\n"
                     R"({"context": "c", "question": "q", "answerA": "a", "answerB": "b", "answerC": "c"})"
                     "\n");
    const fs::path labels = write_file("dev-labels.lst", "1\n0\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Siqa, data); });
    EXPECT_TRUE(contains(message, labels.string() + ":2:"));
    EXPECT_TRUE(contains(message, "from 1 to 3"));
}

TEST(DatasetMc, MissingFieldNamesLine) {
    const fs::path data = write_file("valid.jsonl", R"({"goal": "g", "sol1": "a", "sol2": "b"})"
                                                    "\n"
                                                    R"({"goal": "g", "sol1": "a"})"
                                                    "\n");
    write_file("valid-labels.lst", "0\n1\n");

    const std::string message = error_message([&] { rdt::read_mc_questions(rdt::McFormat::Piqa, data); });
    EXPECT_TRUE(contains(message, data.string() + ":2:"));
    EXPECT_TRUE(contains(message, "missing field \"sol2\""));
}

// ---------------------------------------------------------------------------
// Shared data. Expected counts are those of the data manifest.

TEST(DatasetShared, FeverPaperDev) {
    RDT_SHARED_OR_SKIP(path, "data/fever/paper_dev.jsonl");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);
    EXPECT_EQ(set.stats.read, 9999u);
    EXPECT_EQ(set.stats.kept, 6666u);
    EXPECT_EQ(set.stats.skipped_label, 3333u);
    EXPECT_EQ(count_label(set.claims, 1), 3333u);
    EXPECT_EQ(count_label(set.claims, 0), 3333u);

    const rdt::ClaimSet with_nei = read_claims_with(path, rdt::ClaimFormat::Fever, false, true);
    EXPECT_EQ(with_nei.claims.size(), 9999u);
    EXPECT_EQ(count_label(with_nei.claims, std::nullopt), 3333u);
}

TEST(DatasetShared, FeverSharedTaskArray) {
    RDT_SHARED_OR_SKIP(path, "data/fever/shared_task_dev.json");

    const rdt::ClaimSet set = rdt::read_claims(path);
    EXPECT_EQ(set.format, rdt::ClaimFormat::Fever);
    EXPECT_EQ(set.stats.read, 19998u);
    EXPECT_EQ(count_label(set.claims, 1), 6666u);
    EXPECT_EQ(count_label(set.claims, 0), 6666u);
    EXPECT_EQ(set.stats.skipped_label, 6666u);
}

TEST(DatasetShared, FeverSymmetricFiles) {
    struct Case {
        const char * relative;
        std::size_t count;
    };
    for (const Case & test_case :
         {Case{"data/fever-symmetric/symmetric_v0.2_fever_symmetric_dev.jsonl", 708},
          Case{"data/fever-symmetric/symmetric_v0.2_fever_symmetric_test.jsonl", 712},
          Case{"data/fever-symmetric/symmetric_v0.1_fever_symmetric_generated.jsonl", 717}}) {
        RDT_SHARED_OR_SKIP(path, test_case.relative);

        const rdt::ClaimSet set = rdt::read_claims(path);
        EXPECT_EQ(set.format, rdt::ClaimFormat::FeverSymmetric) << path;
        EXPECT_EQ(set.claims.size(), test_case.count) << path;
        EXPECT_EQ(count_label(set.claims, std::nullopt), 0u) << path;
        const bool all_have_evidence =
            std::all_of(set.claims.begin(), set.claims.end(),
                        [](const rdt::Claim & claim) { return !claim.evidence.empty(); });
        EXPECT_TRUE(all_have_evidence) << path;
    }
}

TEST(DatasetShared, NliDevSets) {
    RDT_SHARED_OR_SKIP(mnli, "data/nli/mnli_dev.jsonl");
    RDT_SHARED_OR_SKIP(snli, "data/nli/snli_dev.jsonl");

    const rdt::NliSet mnli_set = rdt::read_nli(mnli);
    EXPECT_EQ(mnli_set.pairs.size(), 9815u);

    const rdt::NliSet snli_set = rdt::read_nli(snli);
    ASSERT_EQ(snli_set.pairs.size(), 9842u);
    EXPECT_EQ(snli_set.pairs[1].label, rdt::NliLabel::Entailment);
    EXPECT_EQ(snli_set.pairs[1].hypothesis, "Two woman are holding packages.");
    const auto unlabelled = std::count_if(snli_set.pairs.begin(), snli_set.pairs.end(),
                                          [](const rdt::NliPair & pair) { return !pair.label; });
    EXPECT_EQ(unlabelled, 0);
}

TEST(DatasetShared, PiqaValidation) {
    RDT_SHARED_OR_SKIP(path, "data/commonsense/piqa/valid.jsonl");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Piqa, path);
    ASSERT_EQ(questions.size(), 1838u);
    EXPECT_EQ(questions[0].context,
              "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
    EXPECT_EQ(questions[0].gold, 0);
    EXPECT_EQ(questions[1].gold, 1);
    for (const rdt::McQuestion & question : questions) {
        ASSERT_EQ(question.choices.size(), 2u);
    }
}

TEST(DatasetShared, SiqaDev) {
    RDT_SHARED_OR_SKIP(path, "data/commonsense/siqa/dev.jsonl");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Siqa, path);
    ASSERT_EQ(questions.size(), 1954u);
    EXPECT_EQ(questions[0].gold, 2);  // the labels file starts with 3
    EXPECT_EQ(questions[1].gold, 0);
    EXPECT_EQ(questions[0].choices[0], " make a new plan");
}

TEST(DatasetShared, OpenBookQaDevAndTest) {
    RDT_SHARED_OR_SKIP(dev, "data/commonsense/openbookqa/dev.tsv");
    RDT_SHARED_OR_SKIP(test, "data/commonsense/openbookqa/test.tsv");

    const std::vector<rdt::McQuestion> questions = rdt::read_mc_questions(rdt::McFormat::Obqa, dev);
    ASSERT_EQ(questions.size(), 500u);
    EXPECT_EQ(questions[0].context,
              "Frilled sharks and angler fish live far beneath the surface of the ocean, which is why they "
              "are known as");
    EXPECT_EQ(questions[0].choices,
              (std::vector<std::string>{" Deep sea animals", " fish", " Long Sea Fish", " Far Sea Animals"}));
    EXPECT_EQ(questions[0].gold, 0);
    EXPECT_EQ(questions[1].gold, 3);
    for (const rdt::McQuestion & question : questions) {
        ASSERT_EQ(question.choices.size(), 4u);
    }

    EXPECT_EQ(rdt::read_mc_questions(rdt::McFormat::Obqa, test).size(), 500u);
}
