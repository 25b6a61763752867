#include "broker/properties_reader.h"

#include <cstdint>

namespace samsa::broker {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// A logical line ends at a newline that is not escaped by an odd number of backslashes.
bool ends_with_continuation(std::string_view line) {
    size_t backslashes = 0;
    for (size_t i = line.size(); i > 0 && line[i - 1] == '\\'; --i) ++backslashes;
    return backslashes % 2 == 1;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Removes escapes from a key or value.
std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        const char c = s[++i];
        switch (c) {
            case 't': out.push_back('\t'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 'f': out.push_back('\f'); break;
            case 'u': {
                uint32_t cp = 0;
                size_t n = 0;
                for (; n < 4 && i + 1 < s.size(); ++n) {
                    const char h = s[i + 1];
                    uint32_t d;
                    if (h >= '0' && h <= '9') d = static_cast<uint32_t>(h - '0');
                    else if (h >= 'a' && h <= 'f') d = static_cast<uint32_t>(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') d = static_cast<uint32_t>(h - 'A' + 10);
                    else break;
                    cp = cp * 16 + d;
                    ++i;
                }
                if (n == 4) append_utf8(out, cp);
                else out.append("\\u");
                break;
            }
            default: out.push_back(c); break;  // \\ \= \: \# \! and any other char stand for themselves
        }
    }
    return out;
}

} // namespace

std::vector<property> parse_properties(std::string_view text) {
    std::vector<property> out;
    size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
        // Gather one logical line, joining continuations (leading blanks of a continuation go).
        std::string logical;
        const int start_line = line_no + 1;
        bool first = true;
        bool comment = false;
        while (pos <= text.size()) {
            size_t eol = text.find('\n', pos);
            if (eol == std::string_view::npos) eol = text.size();
            std::string_view raw = text.substr(pos, eol - pos);
            if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
            pos = eol + 1;
            ++line_no;
            size_t b = 0;
            while (b < raw.size() && is_blank(raw[b])) ++b;
            raw.remove_prefix(b);
            if (first && !raw.empty() && (raw[0] == '#' || raw[0] == '!')) {
                comment = true;
                break;
            }
            first = false;
            if (ends_with_continuation(raw) && pos <= text.size()) {
                raw.remove_suffix(1);
                logical.append(raw);
                continue;
            }
            logical.append(raw);
            break;
        }
        if (comment || logical.empty()) continue;

        // The key ends at the first unescaped '=', ':' or blank.
        size_t k = 0;
        while (k < logical.size()) {
            const char c = logical[k];
            if (c == '\\') {
                k += 2;
                continue;
            }
            if (c == '=' || c == ':' || is_blank(c)) break;
            ++k;
        }
        if (k > logical.size()) k = logical.size();
        std::string_view key(logical.data(), k);
        size_t v = k;
        while (v < logical.size() && is_blank(logical[v])) ++v;
        if (v < logical.size() && (logical[v] == '=' || logical[v] == ':')) ++v;
        while (v < logical.size() && is_blank(logical[v])) ++v;
        std::string_view value = std::string_view(logical).substr(v);
        out.push_back(property{unescape(key), unescape(value), start_line});
    }
    return out;
}

} // namespace samsa::broker
