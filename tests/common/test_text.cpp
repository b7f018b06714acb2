// Tests for common/text: file reading, UTF-8 validation, line splitting and CSV.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/paths.hpp"
#include "common/text.hpp"

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
    const fs::path dir = base / "common_text" / (std::string(info->test_suite_name()) + "." + info->name());

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

std::vector<std::string> lines_of(std::string_view text) {
    return rdt::split_lines(text);
}

}  // namespace

// ---------------------------------------------------------------------------
// Reading files

TEST(TextRead, KeepsBytesUnchanged) {
    const std::string bytes = "\xEF\xBB\xBFline one\r\nline two\rline three\n\n";
    const fs::path path = write_file("mixed.txt", bytes);

    EXPECT_EQ(rdt::read_file_bytes(path), bytes);
    EXPECT_EQ(rdt::read_text_file(path), bytes);
}

TEST(TextRead, EmptyFileGivesEmptyText) {
    const fs::path path = write_file("empty.txt", "");

    EXPECT_EQ(rdt::read_text_file(path), "");
    EXPECT_TRUE(rdt::read_lines(path).empty());
}

TEST(TextRead, MissingFileNamesPath) {
    const fs::path path = test_dir() / "no-such-file.txt";

    const std::string message = error_message([&] { rdt::read_file_bytes(path); });
    EXPECT_TRUE(contains(message, "not found"));
    EXPECT_TRUE(contains(message, path.string()));
}

TEST(TextRead, DirectoryIsRejected) {
    const fs::path dir = test_dir();

    const std::string message = error_message([&] { rdt::read_text_file(dir); });
    EXPECT_TRUE(contains(message, "is a directory"));
    EXPECT_TRUE(contains(message, dir.string()));
}

TEST(TextRead, ReadLinesDropsByteOrderMark) {
    const fs::path path = write_file("bom.txt",
                                     "\xEF\xBB\xBF"
                                     "first\r\nsecond\r\n");

    const std::vector<std::string> lines = rdt::read_lines(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "first");
    EXPECT_EQ(lines[1], "second");
}

TEST(TextRead, StripBomOnlyAtStart) {
    EXPECT_EQ(rdt::strip_utf8_bom("\xEF\xBB\xBFtext"), "text");
    EXPECT_EQ(rdt::strip_utf8_bom("text"), "text");
    EXPECT_EQ(rdt::strip_utf8_bom("a\xEF\xBB\xBF"), "a\xEF\xBB\xBF");
}

// ---------------------------------------------------------------------------
// UTF-8

TEST(TextUtf8, AcceptsValidText) {
    const std::vector<std::string> valid = {
        "",
        "plain ASCII\n",
        "caf\xC3\xA9",                     // U+00E9, two bytes
        "\xE2\x82\xAC 5",                  // U+20AC, three bytes
        "\xED\x9F\xBF",                    // U+D7FF, last code point before the surrogates
        "\xEE\x80\x80",                    // U+E000, first code point after the surrogates
        "\xF0\x9F\x98\x80",                // U+1F600, four bytes
        "\xF4\x8F\xBF\xBF",                // U+10FFFF, the largest code point
        "tele\xCB\x88mundo \xE2\x80\x94",  // text as in FEVER-Symmetric
    };
    for (const std::string & text : valid) {
        EXPECT_FALSE(rdt::find_invalid_utf8(text).has_value()) << "text: " << text;
    }
}

TEST(TextUtf8, FindsFirstInvalidSequence) {
    struct Case {
        std::string bytes;
        std::size_t offset;
        const char * description;
    };
    const std::vector<Case> cases = {
        {"ab\x80", 2, "continuation byte without lead byte"},
        {"\xC0\xAF", 0, "overlong two-byte form"},
        {"x\xC1\xBF", 1, "overlong two-byte form"},
        {"\xE0\x80\xAF", 0, "overlong three-byte form"},
        {"\xF0\x80\x80\xAF", 0, "overlong four-byte form"},
        {"ok\xED\xA0\x80", 2, "surrogate U+D800"},
        {"\xF4\x90\x80\x80", 0, "code point above U+10FFFF"},
        {"\xF5\x80\x80\x80", 0, "lead byte F5"},
        {"abc\xFF", 3, "byte FF"},
        {"\xE2\x82", 0, "sequence truncated at the end"},
        {"\xE2\x82x", 0, "sequence cut by an ASCII byte"},
        {"caf\xE9 latin-1", 3, "Latin-1 e acute"},
        {"\xC3\xA9\xC3", 2, "truncated after a valid character"},
    };
    for (const Case & test_case : cases) {
        const auto invalid = rdt::find_invalid_utf8(test_case.bytes);
        ASSERT_TRUE(invalid.has_value()) << test_case.description;
        EXPECT_EQ(invalid->offset, test_case.offset) << test_case.description;
        EXPECT_EQ(invalid->line, 1u) << test_case.description;
    }
}

TEST(TextUtf8, CountsLinesOfEveryEnding) {
    // Lines: "a" \n "b" \r\n "c" \r "d<invalid>", so the invalid byte is on line 4.
    const std::string bytes = "a\nb\r\nc\rd\xFF";

    const auto invalid = rdt::find_invalid_utf8(bytes);
    ASSERT_TRUE(invalid.has_value());
    EXPECT_EQ(invalid->offset, 8u);
    EXPECT_EQ(invalid->line, 4u);
}

TEST(TextUtf8, ErrorNamesOffsetLineAndFix) {
    const fs::path path = write_file("latin1.txt", "first line\nna\xEFve\n");

    const std::string message = error_message([&] { rdt::read_text_file(path); });
    EXPECT_TRUE(contains(message, path.string()));
    EXPECT_TRUE(contains(message, "invalid UTF-8"));
    EXPECT_TRUE(contains(message, "byte offset 13"));
    EXPECT_TRUE(contains(message, "line 2"));
    EXPECT_TRUE(contains(message, "0xEF"));
    EXPECT_TRUE(contains(message, "iconv"));
}

TEST(TextUtf8, ValidateNamesSource) {
    EXPECT_NO_THROW(rdt::validate_utf8("fine", "inline"));

    const std::string message = error_message([] { rdt::validate_utf8("\xC3(", "inline text"); });
    EXPECT_TRUE(contains(message, "inline text"));
    EXPECT_TRUE(contains(message, "byte offset 0"));
}

// ---------------------------------------------------------------------------
// Lines

TEST(TextLines, SplitsEveryLineEnding) {
    EXPECT_EQ(lines_of("a\nb\r\nc\rd"), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(TextLines, KeepsBlankLines) {
    EXPECT_EQ(lines_of("a\n\nb\r\n\r\nc\r\rd"), (std::vector<std::string>{"a", "", "b", "", "c", "", "d"}));
}

TEST(TextLines, FinalBreakStartsNoLine) {
    EXPECT_EQ(lines_of(""), (std::vector<std::string>{}));
    EXPECT_EQ(lines_of("a\n"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(lines_of("a\r\n"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(lines_of("a\r"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(lines_of("\n"), (std::vector<std::string>{""}));
    EXPECT_EQ(lines_of("a\n\n"), (std::vector<std::string>{"a", ""}));
}

TEST(TextLines, CrLfIsOneBreak) {
    EXPECT_EQ(rdt::count_line_breaks(""), 0u);
    EXPECT_EQ(rdt::count_line_breaks("a\r\nb"), 1u);
    EXPECT_EQ(rdt::count_line_breaks("a\n\rb"), 2u);
    EXPECT_EQ(rdt::count_line_breaks("\r\r\n\n"), 3u);
}

TEST(TextLines, KeepsOtherWhitespace) {
    EXPECT_EQ(lines_of("  indented\t\nend  "), (std::vector<std::string>{"  indented\t", "end  "}));
}

// ---------------------------------------------------------------------------
// String helpers

TEST(TextStrings, TrimAndBlank) {
    EXPECT_EQ(rdt::trim_whitespace(" \t a b \r\n"), "a b");
    EXPECT_EQ(rdt::trim_whitespace("   "), "");
    EXPECT_TRUE(rdt::is_blank(" \t\n"));
    EXPECT_TRUE(rdt::is_blank(""));
    EXPECT_FALSE(rdt::is_blank(" x "));
}

TEST(TextStrings, LowerCaseOnlyAscii) {
    EXPECT_EQ(rdt::to_lower_ascii("NOT ENOUGH Info"), "not enough info");
    EXPECT_EQ(rdt::to_lower_ascii("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
}

TEST(TextStrings, SplitAndJoin) {
    EXPECT_EQ(rdt::split_string("a\t\tb", '\t'), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_EQ(rdt::split_string("", ','), (std::vector<std::string>{""}));
    EXPECT_EQ(rdt::split_string("a,", ','), (std::vector<std::string>{"a", ""}));
    EXPECT_EQ(rdt::join_strings({"x", "y", "z"}, ", "), "x, y, z");
    EXPECT_EQ(rdt::join_strings({}, ", "), "");
}

TEST(TextStrings, ParseWholeInteger) {
    EXPECT_EQ(rdt::parse_integer("42"), 42);
    EXPECT_EQ(rdt::parse_integer("-1"), -1);
    EXPECT_FALSE(rdt::parse_integer("").has_value());
    EXPECT_FALSE(rdt::parse_integer(" 1").has_value());
    EXPECT_FALSE(rdt::parse_integer("1.5").has_value());
    EXPECT_FALSE(rdt::parse_integer("99999999999999999999").has_value());
}

// ---------------------------------------------------------------------------
// CSV

TEST(TextCsv, PlainRecords) {
    const auto records = rdt::parse_csv("claim,label\nThe sky is blue,true\n", "inline");

    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].fields, (std::vector<std::string>{"claim", "label"}));
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"The sky is blue", "true"}));
    EXPECT_EQ(records[0].line, 1u);
    EXPECT_EQ(records[1].line, 2u);
    EXPECT_TRUE(records[1].error.empty());
}

TEST(TextCsv, QuotedCommasAndQuotes) {
    const auto records = rdt::parse_csv("\"a, b\",\"say \"\"hi\"\"\",\"\"\n", "inline");

    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a, b", "say \"hi\"", ""}));
}

TEST(TextCsv, QuotedLineBreakCountsLines) {
    const auto records = rdt::parse_csv("h1,h2\r\n\"two\r\nlines\",x\r\nlast,y\r\n", "inline");

    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1].fields[0], "two\r\nlines");
    EXPECT_EQ(records[1].line, 2u);
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"last", "y"}));
    EXPECT_EQ(records[2].line, 4u);
}

TEST(TextCsv, EmptyFieldsAndNoFinalBreak) {
    const auto records = rdt::parse_csv("a,,c,\n,\nlast", "inline");

    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "", "c", ""}));
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"", ""}));
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"last"}));
}

TEST(TextCsv, CarriageReturnEndsRecord) {
    const auto records = rdt::parse_csv("a,b\rc,d\r", "inline");

    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"c", "d"}));
    EXPECT_EQ(records[1].line, 2u);
}

TEST(TextCsv, SkipsEmptyLines) {
    const auto records = rdt::parse_csv("a\n\n\r\nb\n", "inline");

    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"b"}));
    EXPECT_EQ(records[1].line, 4u);
}

TEST(TextCsv, StrayQuoteMarksOnlyItsRecord) {
    const auto records = rdt::parse_csv("a,b\nsay \"hi\",x\nc,d\n", "inline");

    ASSERT_EQ(records.size(), 3u);
    EXPECT_TRUE(contains(records[1].error, "double quote inside an unquoted field"));
    EXPECT_EQ(records[1].line, 2u);
    EXPECT_TRUE(records[2].error.empty());
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"c", "d"}));
}

TEST(TextCsv, TextAfterClosingQuoteIsMalformed) {
    const auto records = rdt::parse_csv("\"quoted\"tail,x\nok,y\n", "inline");

    ASSERT_EQ(records.size(), 2u);
    EXPECT_TRUE(contains(records[0].error, "after the closing double quote"));
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"ok", "y"}));
}

TEST(TextCsv, UnterminatedQuoteThrowsWithLine) {
    const std::string message =
        error_message([] { rdt::parse_csv("a,b\nc,d\ne,\"never closed\nmore\n", "claims.csv"); });

    EXPECT_TRUE(contains(message, "claims.csv:3"));
    EXPECT_TRUE(contains(message, "unterminated quoted field"));
}

// ---------------------------------------------------------------------------
// Shared text files

TEST(TextShared, WikitextKeepsCrLf) {
    const fs::path path = rdt::shared_path("data/text/wikitext-2-raw-test.txt");
    if (!fs::exists(path)) {
        GTEST_SKIP() << "shared data not found: " << path;
    }

    // The file is 2,891 non-empty lines, each ended by CRLF, 1,290,547 bytes.
    const std::string text = rdt::read_text_file(path);
    EXPECT_EQ(text.size(), 1290547u);
    EXPECT_EQ(rdt::count_line_breaks(text), 2891u);
    EXPECT_NE(text.find("\r\n"), std::string::npos);

    const std::vector<std::string> lines = rdt::read_lines(path);
    ASSERT_EQ(lines.size(), 2891u);
    EXPECT_EQ(lines[0], " = Robert Boulter = ");
}

TEST(TextShared, OtherTextFilesAreUtf8) {
    for (const char * name : {"data/text/calibration.txt", "data/text/tinystories-valid-head.txt"}) {
        const fs::path path = rdt::shared_path(name);
        if (!fs::exists(path)) {
            GTEST_SKIP() << "shared data not found: " << path;
        }
        EXPECT_FALSE(rdt::read_text_file(path).empty()) << path;
    }
}
