#pragma once
// Reading text files: whole-file bytes, UTF-8 validation, line splitting and
// RFC 4180 CSV records. Every reader of text input in the toolkit goes through
// read_text_file(), so an encoding problem is reported once, with its position.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rdt {

// Read a whole file as bytes, unchanged. Throws rdt::Error naming the path when
// the file is missing, is a directory or cannot be read.
std::string read_file_bytes(const std::filesystem::path & path);

// Position of the first invalid UTF-8 sequence in a byte string.
struct Utf8Position {
    std::size_t offset = 0;  // byte offset of the sequence's first byte, counting from 0
    std::size_t line = 1;    // line number, counting from 1; \n, \r\n and \r each end a line
};

// Find the first byte sequence that is not well-formed UTF-8. As in the Unicode
// standard's definition, overlong forms, surrogates (U+D800..U+DFFF), code points
// above U+10FFFF and truncated sequences are invalid. Returns nullopt for valid input.
std::optional<Utf8Position> find_invalid_utf8(std::string_view bytes);

// Throw rdt::Error when bytes are not valid UTF-8. The message names source_name
// (usually the file path) and the byte offset and line of the first invalid
// sequence, and gives an iconv command that converts the file.
void validate_utf8(std::string_view bytes, std::string_view source_name);

// Read a UTF-8 text file and return its bytes unchanged: line endings and a
// leading byte order mark stay as they are. Perplexity tokenizes this text as it
// is, the way llama.cpp's llama-perplexity tokenizes the raw file.
std::string read_text_file(const std::filesystem::path & path);

// Return text without a leading UTF-8 byte order mark (EF BB BF), if it has one.
std::string_view strip_utf8_bom(std::string_view text);

// Count the line breaks (\n, \r\n or \r, each counting once) in text.
std::size_t count_line_breaks(std::string_view text);

// Split text into lines at \n, \r\n and \r. The line breaks are removed. A break
// at the very end does not start another line, so "a\nb\n" gives {"a", "b"} and
// "" gives {}; blank lines in between are kept as empty strings.
std::vector<std::string> split_lines(std::string_view text);

// Read a UTF-8 text file (see read_text_file), drop a leading byte order mark and
// split it into lines. Element i is line i + 1 of the file.
std::vector<std::string> read_lines(const std::filesystem::path & path);

// Return text without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
std::string_view trim_whitespace(std::string_view text);

// Return whether text is empty or only ASCII whitespace.
bool is_blank(std::string_view text);

// Return text with ASCII letters in lower case. Other bytes, UTF-8 sequences
// included, stay as they are.
std::string to_lower_ascii(std::string_view text);

// Split text at every separator: "a,,b" gives {"a", "", "b"} and "" gives {""}.
std::vector<std::string> split_string(std::string_view text, char separator);

// Join parts with separator between each two.
std::string join_strings(const std::vector<std::string> & parts, std::string_view separator);

// Parse all of text as a decimal integer with an optional minus sign. Returns
// nullopt for anything else, including surrounding spaces and out-of-range values.
std::optional<long long> parse_integer(std::string_view text);

// One CSV record with the line where it starts (counting from 1). When the record
// is malformed, error is the reason and fields may be incomplete.
struct CsvRecord {
    std::vector<std::string> fields;
    std::size_t line = 0;
    std::string error;
};

// Parse CSV text as RFC 4180 describes it. Commas separate fields and \r\n, \n
// or \r separate records. A field enclosed in double quotes may contain commas,
// line breaks and doubled quotes ("" stands for one "). Empty lines are skipped.
// A quote inside an unquoted field, or text after a closing quote, marks that
// record as malformed, and parsing resumes on the next line. An unterminated
// quoted field throws rdt::Error naming source_name and the line where the field
// starts, because the rest of the text cannot be split into records.
std::vector<CsvRecord> parse_csv(std::string_view text, std::string_view source_name);

}  // namespace rdt
