#include "common/text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "common/error.hpp"

namespace rdt {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::size_t kReadChunkBytes = 1 << 16;

using FileHandle = std::unique_ptr<std::FILE, int (*)(std::FILE *)>;

// Throw unless path names an existing file that is not a directory.
void check_readable_file(const std::filesystem::path & path) {
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::status(path, error);

    if (status.type() == std::filesystem::file_type::not_found) {
        fail("file not found: {}; check the path", path.string());
    }
    if (error) {
        fail("cannot access {}: {}; check the path and its permissions", path.string(), error.message());
    }
    if (std::filesystem::is_directory(status)) {
        fail("{} is a directory; pass the path of a file", path.string());
    }
}

bool is_continuation_byte(unsigned char byte) {
    return byte >= 0x80 && byte <= 0xBF;
}

// Return the length of the well-formed UTF-8 sequence that starts at bytes[start],
// or 0 when no well-formed sequence starts there. The allowed range of the second
// byte depends on the lead byte: it excludes overlong forms (after E0 and F0),
// surrogates (after ED) and code points above U+10FFFF (after F4).
std::size_t utf8_sequence_length(std::string_view bytes, std::size_t start) {
    const auto lead = static_cast<unsigned char>(bytes[start]);
    if (lead < 0x80) {
        return 1;
    }

    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead == 0xE0) {
        length = 3;
        second_min = 0xA0;
    } else if (lead == 0xED) {
        length = 3;
        second_max = 0x9F;
    } else if (lead >= 0xE1 && lead <= 0xEF) {
        length = 3;
    } else if (lead == 0xF0) {
        length = 4;
        second_min = 0x90;
    } else if (lead == 0xF4) {
        length = 4;
        second_max = 0x8F;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
        length = 4;
    } else {
        return 0;
    }

    if (start + length > bytes.size()) {
        return 0;
    }
    const auto second = static_cast<unsigned char>(bytes[start + 1]);
    if (second < second_min || second > second_max) {
        return 0;
    }
    for (std::size_t k = 2; k < length; ++k) {
        if (!is_continuation_byte(static_cast<unsigned char>(bytes[start + k]))) {
            return 0;
        }
    }
    return length;
}

// Splits CSV text into records; see parse_csv() in the header for the rules.
class CsvParser {
  public:
    CsvParser(std::string_view text, std::string_view source_name) : text_(text), source_name_(source_name) {}

    std::vector<CsvRecord> parse() {
        std::vector<CsvRecord> records;
        while (pos_ < text_.size()) {
            if (at_line_break()) {
                consume_line_break();
                continue;
            }
            records.push_back(parse_record());
        }
        return records;
    }

  private:
    std::string_view text_;
    std::string_view source_name_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;

    bool at_end() const { return pos_ >= text_.size(); }

    bool at_line_break() const { return !at_end() && (text_[pos_] == '\n' || text_[pos_] == '\r'); }

    // Consume one line break (\n, \r\n or \r) and return its bytes.
    std::string_view consume_line_break() {
        const std::size_t start = pos_;
        if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
            ++pos_;
        }
        ++pos_;
        ++line_;
        return text_.substr(start, pos_ - start);
    }

    CsvRecord parse_record() {
        CsvRecord record;
        record.line = line_;

        while (true) {
            std::string field;
            const bool well_formed = !at_end() && text_[pos_] == '"' ? parse_quoted_field(field, record)
                                                                     : parse_unquoted_field(field, record);
            record.fields.push_back(std::move(field));

            if (!well_formed) {
                skip_rest_of_line();
                return record;
            }
            if (at_end()) {
                return record;
            }
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            consume_line_break();
            return record;
        }
    }

    bool parse_unquoted_field(std::string & field, CsvRecord & record) {
        while (!at_end() && text_[pos_] != ',' && !at_line_break()) {
            if (text_[pos_] == '"') {
                record.error =
                    "double quote inside an unquoted field; enclose the field in double quotes "
                    "and write each quote inside it as two quotes";
                return false;
            }
            field += text_[pos_];
            ++pos_;
        }
        return true;
    }

    bool parse_quoted_field(std::string & field, CsvRecord & record) {
        const std::size_t start_line = line_;
        ++pos_;

        while (true) {
            if (at_end()) {
                fail("{}:{}: unterminated quoted field; add the closing double quote", source_name_,
                     start_line);
            }
            if (at_line_break()) {
                field += consume_line_break();
                continue;
            }
            const char c = text_[pos_];
            ++pos_;
            if (c != '"') {
                field += c;
                continue;
            }
            if (!at_end() && text_[pos_] == '"') {
                field += '"';
                ++pos_;
                continue;
            }
            break;
        }

        if (!at_end() && text_[pos_] != ',' && !at_line_break()) {
            record.error =
                "text after the closing double quote of a field; a quoted field must end at a comma or "
                "line end";
            return false;
        }
        return true;
    }

    void skip_rest_of_line() {
        while (!at_end() && !at_line_break()) {
            ++pos_;
        }
        if (!at_end()) {
            consume_line_break();
        }
    }
};

}  // namespace

std::string read_file_bytes(const std::filesystem::path & path) {
    check_readable_file(path);

    FileHandle file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        fail("failed to open {}: {}; check its permissions", path.string(), std::strerror(errno));
    }

    std::string bytes;
    std::string chunk(kReadChunkBytes, '\0');
    std::size_t count = 0;
    while ((count = std::fread(chunk.data(), 1, chunk.size(), file.get())) > 0) {
        bytes.append(chunk.data(), count);
    }

    if (std::ferror(file.get()) != 0) {
        fail("failed to read {}: {}", path.string(), std::strerror(errno));
    }
    return bytes;
}

std::optional<Utf8Position> find_invalid_utf8(std::string_view bytes) {
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t length = utf8_sequence_length(bytes, pos);
        if (length == 0) {
            return Utf8Position{pos, count_line_breaks(bytes.substr(0, pos)) + 1};
        }
        pos += length;
    }
    return std::nullopt;
}

void validate_utf8(std::string_view bytes, std::string_view source_name) {
    const std::optional<Utf8Position> invalid = find_invalid_utf8(bytes);
    if (!invalid) {
        return;
    }

    const auto byte = static_cast<unsigned char>(bytes[invalid->offset]);
    fail(
        "{}: invalid UTF-8 at byte offset {} (line {}, byte 0x{:02X}); convert the file to UTF-8, "
        "for example with iconv -f WINDOWS-1252 -t UTF-8 {} > converted.txt",
        source_name, invalid->offset, invalid->line, byte, source_name);
}

std::string read_text_file(const std::filesystem::path & path) {
    std::string bytes = read_file_bytes(path);
    validate_utf8(bytes, path.string());
    return bytes;
}

std::string_view strip_utf8_bom(std::string_view text) {
    if (text.starts_with(kUtf8Bom)) {
        text.remove_prefix(kUtf8Bom.size());
    }
    return text;
}

std::size_t count_line_breaks(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++count;
        } else if (text[i] == '\r') {
            ++count;
            if (i + 1 < text.size() && text[i + 1] == '\n') {
                ++i;
            }
        }
    }
    return count;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t line_start = 0;
    std::size_t i = 0;

    while (i < text.size()) {
        if (text[i] != '\n' && text[i] != '\r') {
            ++i;
            continue;
        }
        lines.emplace_back(text.substr(line_start, i - line_start));
        const bool crlf = text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
        i += crlf ? 2 : 1;
        line_start = i;
    }

    if (line_start < text.size()) {
        lines.emplace_back(text.substr(line_start));
    }
    return lines;
}

std::vector<std::string> read_lines(const std::filesystem::path & path) {
    const std::string text = read_text_file(path);
    return split_lines(strip_utf8_bom(text));
}

std::string_view trim_whitespace(std::string_view text) {
    constexpr std::string_view kWhitespace = " \t\n\v\f\r";
    const std::size_t first = text.find_first_not_of(kWhitespace);
    if (first == std::string_view::npos) {
        return text.substr(0, 0);
    }
    const std::size_t last = text.find_last_not_of(kWhitespace);
    return text.substr(first, last - first + 1);
}

bool is_blank(std::string_view text) {
    return trim_whitespace(text).empty();
}

std::string to_lower_ascii(std::string_view text) {
    std::string lower(text);
    for (char & c : lower) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return lower;
}

std::vector<std::string> split_string(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        if (end == std::string_view::npos) {
            parts.emplace_back(text.substr(start));
            return parts;
        }
        parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::string join_strings(const std::vector<std::string> & parts, std::string_view separator) {
    std::string joined;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            joined += separator;
        }
        joined += parts[i];
    }
    return joined;
}

std::optional<long long> parse_integer(std::string_view text) {
    long long value = 0;
    const char * end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) {
        return std::nullopt;
    }
    return value;
}

std::vector<CsvRecord> parse_csv(std::string_view text, std::string_view source_name) {
    CsvParser parser(text, source_name);
    return parser.parse();
}

}  // namespace rdt
