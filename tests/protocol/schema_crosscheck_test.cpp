// Cross-checks the project's protocol definitions (protocol/schema/*.json, the project's own
// format) against Kafka's message definitions (Kafka's JSON with `//` comments, in a reference
// folder next to the source tree). Both are read into one normalised model, so the comparison
// is a plain walk that reports every difference with the file, the struct path, the field, the
// attribute and both values. The comparison itself is tested on small hand-made definitions
// with one deliberate alteration each, so a pass on the real files means something.
// Runs on the test thread; only reads files.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifndef SAMSA_SCHEMA_DIR
#error "SAMSA_SCHEMA_DIR must name protocol/schema (set by tests/meson.build)"
#endif
#ifndef SAMSA_KAFKA_REFERENCE_DIR
#error "SAMSA_KAFKA_REFERENCE_DIR must name Kafka's message definitions (set by tests/meson.build)"
#endif

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Project definitions whose Kafka source lies outside the reference folder (Kafka keeps the
// records of its internal topics in the group and transaction coordinator modules). They are
// compared when the reference holds them, and otherwise reported as not cross-checked.
const std::set<std::string> defined_outside_reference = {
    "OffsetCommitKey", "OffsetCommitValue", "GroupMetadataKey", "GroupMetadataValue",
    "ConsumerGroupMetadataKey", "ConsumerGroupMetadataValue", "ConsumerGroupPartitionMetadataKey",
    "ConsumerGroupPartitionMetadataValue", "ConsumerGroupMemberMetadataKey", "ConsumerGroupMemberMetadataValue",
    "ConsumerGroupTargetAssignmentMetadataKey", "ConsumerGroupTargetAssignmentMetadataValue",
    "ConsumerGroupTargetAssignmentMemberKey", "ConsumerGroupTargetAssignmentMemberValue",
    "ConsumerGroupCurrentMemberAssignmentKey", "ConsumerGroupCurrentMemberAssignmentValue",
    "TransactionLogKey", "TransactionLogValue",
};

// ---- the normalised model -------------------------------------------------------------------

// An inclusive version range; empty when lo > hi. `text` keeps the spelling for messages.
struct version_range {
    int lo = 1;
    int hi = 0;
    std::string text = "none";

    [[nodiscard]] bool empty() const noexcept { return lo > hi; }
    [[nodiscard]] version_range clip(const version_range& within) const {
        version_range out = *this;
        out.lo = std::max(lo, within.lo);
        out.hi = std::min(hi, within.hi);
        return out;
    }
    [[nodiscard]] bool same_as(const version_range& o) const noexcept {
        return (empty() && o.empty()) || (lo == o.lo && hi == o.hi);
    }
    [[nodiscard]] std::string describe() const {
        if (empty()) return "none";
        if (hi == std::numeric_limits<int16_t>::max()) return std::to_string(lo) + "+";
        if (lo == hi) return std::to_string(lo);
        return std::to_string(lo) + "-" + std::to_string(hi);
    }
};

version_range parse_versions(const std::string& text) {
    version_range v;
    v.text = text;
    auto number = [&](const std::string& s) {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
            throw std::runtime_error("bad version range \"" + text + "\"");
        return std::stoi(s);
    };
    if (text == "none") return v;
    if (!text.empty() && text.back() == '+') {
        v.lo = number(text.substr(0, text.size() - 1));
        v.hi = std::numeric_limits<int16_t>::max();
    } else if (auto dash = text.find('-'); dash != std::string::npos) {
        v.lo = number(text.substr(0, dash));
        v.hi = number(text.substr(dash + 1));
    } else {
        v.lo = v.hi = number(text);
    }
    return v;
}

struct field_def {
    std::string name;
    std::string type;
    version_range versions;
    version_range nullable;
    version_range tagged;
    std::optional<version_range> flexible;  // field-level override
    std::optional<int64_t> tag;
    std::string default_value;  // canonical (see canonical_default)
    std::string default_text;   // as written, for messages
    bool ignorable = false;
    bool zero_copy = false;
    std::vector<field_def> fields;  // an inline struct's fields
};

struct message_def {
    std::string name;  // FetchRequest, RequestHeader, ConsumerProtocolSubscription
    std::string kind;  // request, response, header or data
    std::string file;  // the file it was read from (name only)
    std::optional<int64_t> api_key;
    version_range valid;
    version_range flexible;
    version_range deprecated;
    bool unstable = false;
    std::vector<std::string> listeners;  // sorted
    std::vector<field_def> fields;
    std::map<std::string, std::vector<field_def>> common_structs;
};

struct difference {
    std::string where;      // "fetch.json / FetchRequest.json: FetchRequest.Topics.Partitions"
    std::string attribute;  // "nullable versions"
    std::string project;
    std::string reference;

    [[nodiscard]] std::string describe() const {
        return where + ": " + attribute + ": project " + project + ", Kafka " + reference;
    }
};

struct definition_set {
    std::map<std::string, message_def> by_name;
    std::vector<std::string> errors;  // unreadable files, duplicate names
};

// ---- reading --------------------------------------------------------------------------------

// Removes `//` comments (to the end of the line) outside string literals.
std::string strip_line_comments(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < text.size()) {
                out.push_back(text[++i]);
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
            out.push_back(c);
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
            while (i < text.size() && text[i] != '\n') ++i;
            if (i < text.size()) out.push_back('\n');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool is_integer_type(std::string_view t) {
    return t == "int8" || t == "int16" || t == "int32" || t == "int64" || t == "uint16" || t == "uint32";
}

// One spelling per value, whichever way a file writes it: Kafka writes defaults as strings
// ("-1", "0x7fffffff", "false", "null"), the project as JSON values (-1, 2147483647, false, null).
// An absent default is the type's implicit one, as in Kafka's generator.
std::string canonical_default(const json* value, const std::string& type) {
    const bool array = type.rfind("[]", 0) == 0;
    const bool primitive_string = type == "string";
    if (value == nullptr || (value->is_string() && value->get<std::string>().empty() && !primitive_string)) {
        if (is_integer_type(type)) return "0";
        if (type == "bool") return "false";
        if (type == "float64") return "0";
        if (type == "records") return "null";
        if (type == "uuid") return "AAAAAAAAAAAAAAAAAAAAAA";
        if (primitive_string) return "\"\"";
        return array ? "empty array" : "empty";
    }
    if (value->is_null() || (value->is_string() && value->get<std::string>() == "null" && !is_integer_type(type) &&
                             type != "bool" && type != "float64"))
        return "null";
    if (is_integer_type(type)) {
        if (value->is_number_integer()) return std::to_string(value->get<int64_t>());
        if (value->is_string()) {
            std::string s = value->get<std::string>();
            bool negative = !s.empty() && s[0] == '-';
            std::string digits = negative ? s.substr(1) : s;
            int base = 10;
            if (digits.rfind("0x", 0) == 0) {
                base = 16;
                digits = digits.substr(2);
            }
            size_t used = 0;
            const long long v = std::stoll(digits, &used, base);
            if (used != digits.size()) throw std::runtime_error("bad integer default \"" + s + "\"");
            return std::to_string(negative ? -v : v);
        }
    }
    if (type == "bool") {
        if (value->is_boolean()) return value->get<bool>() ? "true" : "false";
        if (value->is_string()) {
            std::string s = value->get<std::string>();
            for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (s == "true" || s == "false") return s;
        }
    }
    if (type == "float64") {
        const double d = value->is_number() ? value->get<double>() : std::stod(value->get<std::string>());
        std::ostringstream os;
        os.precision(17);
        os << d;
        return os.str();
    }
    if (type == "uuid" && value->is_string()) return value->get<std::string>();
    if (value->is_string()) return "\"" + value->get<std::string>() + "\"";
    return "unrecognised " + value->dump();
}

std::string raw_text(const json* value) { return value == nullptr ? "absent" : value->dump(); }

const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string string_or(const json& object, const char* key, const std::string& fallback) {
    const json* v = member(object, key);
    return v == nullptr ? fallback : v->get<std::string>();
}

bool bool_or_false(const json& object, const char* key) {
    const json* v = member(object, key);
    if (v == nullptr) return false;
    if (v->is_boolean()) return v->get<bool>();
    return v->get<std::string>() == "true";
}

// Which spelling a file uses for each attribute.
struct dialect {
    const char* versions;
    const char* nullable;
    const char* tagged;
    const char* flexible;
    const char* zero_copy;
    bool versions_default_to_tagged;  // Kafka: a tagged field without versions has its tagged ones
};
constexpr dialect project_dialect{"v", "nullable", "tagged", "flexible", "zero_copy", false};
constexpr dialect kafka_dialect{"versions", "nullableVersions", "taggedVersions", "flexibleVersions", "zeroCopy", true};

std::vector<field_def> read_fields(const json& list, const dialect& d) {
    std::vector<field_def> out;
    for (const auto& spec : list) {
        field_def f;
        f.name = spec.at("name").get<std::string>();
        f.type = spec.at("type").get<std::string>();
        f.tagged = parse_versions(string_or(spec, d.tagged, "none"));
        std::string fallback = d.versions_default_to_tagged && !f.tagged.empty() ? f.tagged.text : "0+";
        if (d.versions_default_to_tagged && f.tagged.empty() && member(spec, d.versions) == nullptr)
            throw std::runtime_error("field " + f.name + " has no versions");
        f.versions = parse_versions(string_or(spec, d.versions, fallback));
        f.nullable = parse_versions(string_or(spec, d.nullable, "none"));
        if (const json* fl = member(spec, d.flexible)) f.flexible = parse_versions(fl->get<std::string>());
        // Kafka's reader also takes a tag written as a string ("tag": "0").
        if (const json* t = member(spec, "tag"))
            f.tag = t->is_string() ? std::stoll(t->get<std::string>()) : t->get<int64_t>();
        const json* def = member(spec, "default");
        f.default_value = canonical_default(def, f.type);
        f.default_text = raw_text(def);
        f.ignorable = bool_or_false(spec, "ignorable");
        f.zero_copy = bool_or_false(spec, d.zero_copy);
        if (const json* nested = member(spec, "fields")) f.fields = read_fields(*nested, d);
        out.push_back(std::move(f));
    }
    return out;
}

std::vector<std::string> sorted_strings(const json* list) {
    std::vector<std::string> out;
    if (list != nullptr)
        for (const auto& s : *list) out.push_back(s.get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
}

// One project file: an API (request and response), the headers, or data types.
std::vector<message_def> read_project_file(const json& doc, const std::string& file) {
    std::vector<message_def> out;
    auto body = [&](const json& b, message_def m) {
        m.file = file;
        m.fields = read_fields(b.at("fields"), project_dialect);
        if (const json* structs = member(b, "structs"))
            for (const auto& [name, fields] : structs->items())
                m.common_structs[name] = read_fields(fields, project_dialect);
        return m;
    };
    if (const json* api = member(doc, "api")) {
        message_def base;
        base.api_key = doc.at("key").get<int64_t>();
        base.valid = parse_versions(doc.at("versions").get<std::string>());
        base.flexible = parse_versions(doc.at("flexible").get<std::string>());
        base.deprecated = parse_versions(string_or(doc, "deprecated", "none"));
        base.unstable = bool_or_false(doc, "unstable");
        base.listeners = sorted_strings(member(doc, "listeners"));
        for (const char* kind : {"request", "response"}) {
            message_def m = base;
            m.kind = kind;
            m.name = api->get<std::string>() + (m.kind == "request" ? "Request" : "Response");
            out.push_back(body(doc.at(kind), std::move(m)));
        }
        return out;
    }
    for (const char* kind : {"headers", "data"}) {
        const json* list = member(doc, kind);
        if (list == nullptr) continue;
        for (const auto& e : *list) {
            message_def m;
            m.kind = std::string(kind) == "headers" ? "header" : "data";
            m.name = e.at("name").get<std::string>();
            m.valid = parse_versions(e.at("versions").get<std::string>());
            m.flexible = parse_versions(e.at("flexible").get<std::string>());
            m.deprecated = parse_versions(string_or(e, "deprecated", "none"));
            out.push_back(body(e, std::move(m)));
        }
        return out;
    }
    throw std::runtime_error("holds neither \"api\", \"headers\" nor \"data\"");
}

// One of Kafka's files (after comments are stripped).
message_def read_kafka_file(const json& doc, const std::string& file) {
    message_def m;
    m.file = file;
    m.name = doc.at("name").get<std::string>();
    m.kind = doc.at("type").get<std::string>();
    if (const json* key = member(doc, "apiKey")) m.api_key = key->get<int64_t>();
    m.valid = parse_versions(doc.at("validVersions").get<std::string>());
    m.flexible = parse_versions(string_or(doc, "flexibleVersions", "none"));
    m.deprecated = parse_versions(string_or(doc, "deprecatedVersions", "none"));
    m.unstable = bool_or_false(doc, "latestVersionUnstable");
    m.listeners = sorted_strings(member(doc, "listeners"));
    m.fields = read_fields(doc.at("fields"), kafka_dialect);
    if (const json* structs = member(doc, "commonStructs"))
        for (const auto& s : *structs)
            m.common_structs[s.at("name").get<std::string>()] = read_fields(s.at("fields"), kafka_dialect);
    return m;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<fs::path> json_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

void add(definition_set& set, message_def m) {
    auto name = m.name;
    auto file = m.file;
    auto [it, inserted] = set.by_name.emplace(name, std::move(m));
    if (!inserted) set.errors.push_back(file + ": " + name + " is also defined in " + it->second.file);
}

definition_set load_project(const fs::path& dir) {
    definition_set set;
    for (const auto& p : json_files(dir)) {
        try {
            for (auto& m : read_project_file(json::parse(read_text(p)), p.filename().string())) add(set, std::move(m));
        } catch (const std::exception& e) {
            set.errors.push_back(p.filename().string() + ": " + e.what());
        }
    }
    return set;
}

definition_set load_kafka(const fs::path& dir) {
    definition_set set;
    for (const auto& p : json_files(dir)) {
        try {
            add(set, read_kafka_file(json::parse(strip_line_comments(read_text(p))), p.filename().string()));
        } catch (const std::exception& e) {
            set.errors.push_back(p.filename().string() + ": " + e.what());
        }
    }
    return set;
}

// ---- comparing ------------------------------------------------------------------------------

class comparer {
public:
    comparer(const message_def& project, const message_def& kafka) : p_(project), k_(kafka) {
        // Versions outside both valid ranges never reach the wire, so "0+" and "0-17" agree
        // for a message whose versions are 0-17.
        within_.lo = std::min(p_.valid.lo, k_.valid.lo);
        within_.hi = std::max(p_.valid.hi, k_.valid.hi);
        files_ = p_.file + " / " + k_.file;
    }

    std::vector<difference> run() {
        const std::string where = p_.name;
        if (p_.kind != k_.kind) note(where, "kind", p_.kind, k_.kind);
        if (p_.api_key != k_.api_key)
            note(where, "api key", p_.api_key ? std::to_string(*p_.api_key) : "none",
                 k_.api_key ? std::to_string(*k_.api_key) : "none");
        if (!p_.valid.same_as(k_.valid)) note(where, "valid versions", p_.valid.text, k_.valid.text);
        versions(where, "flexible versions", p_.flexible, k_.flexible);
        // Kafka keeps the API-wide attributes on the request; a project API has them once.
        if (p_.kind != "response") {
            versions(where, "deprecated versions", p_.deprecated, k_.deprecated);
            if (p_.unstable != k_.unstable)
                note(where, "latest version unstable", yes_no(p_.unstable), yes_no(k_.unstable));
            if (p_.listeners != k_.listeners) note(where, "listeners", join(p_.listeners), join(k_.listeners));
        }
        fields(where, p_.fields, k_.fields);
        std::vector<std::string> pn, kn;
        for (const auto& [n, _] : p_.common_structs) pn.push_back(n);
        for (const auto& [n, _] : k_.common_structs) kn.push_back(n);
        if (pn != kn) note(where, "common structs", join(pn), join(kn));
        for (const auto& [n, f] : p_.common_structs) {
            auto it = k_.common_structs.find(n);
            if (it != k_.common_structs.end()) fields(where + "." + n, f, it->second);
        }
        return std::move(out_);
    }

private:
    static std::string yes_no(bool b) { return b ? "true" : "false"; }
    static std::string join(const std::vector<std::string>& v) {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
        return s + "]";
    }
    static std::string quoted(const std::string& s) { return "\"" + s + "\""; }

    void note(const std::string& where, std::string attribute, std::string project, std::string kafka) {
        out_.push_back({files_ + ": " + where, std::move(attribute), std::move(project), std::move(kafka)});
    }

    void versions(const std::string& where, const char* attribute, const version_range& p, const version_range& k) {
        if (!p.clip(within_).same_as(k.clip(within_)))
            note(where, attribute, quoted(p.text),
                 quoted(k.text) + " (compared within versions " + within_.describe() + ")");
    }

    void fields(const std::string& where, const std::vector<field_def>& pf, const std::vector<field_def>& kf) {
        std::vector<std::string> pn, kn;
        for (const auto& f : pf) pn.push_back(f.name);
        for (const auto& f : kf) kn.push_back(f.name);
        if (pn != kn) {
            const std::set<std::string> ps(pn.begin(), pn.end()), ks(kn.begin(), kn.end());
            note(where, ps == ks ? "field order" : "field names", join(pn), join(kn));
        }
        for (const auto& f : pf) {
            auto it = std::find_if(kf.begin(), kf.end(), [&](const field_def& k) { return k.name == f.name; });
            if (it != kf.end()) field(where + "." + f.name, f, *it);
        }
    }

    void field(const std::string& where, const field_def& p, const field_def& k) {
        if (p.type != k.type) note(where, "type", quoted(p.type), quoted(k.type));
        versions(where, "versions", p.versions, k.versions);
        versions(where, "nullable versions", p.nullable, k.nullable);
        versions(where, "tagged versions", p.tagged, k.tagged);
        if (p.tag != k.tag)
            note(where, "tag", p.tag ? std::to_string(*p.tag) : "none", k.tag ? std::to_string(*k.tag) : "none");
        // A field without an override is flexible in its message's flexible versions.
        versions(where, "flexible versions", p.flexible.value_or(p_.flexible), k.flexible.value_or(k_.flexible));
        if (p.default_value != k.default_value)
            note(where, "default", p.default_value + " (written " + p.default_text + ")",
                 k.default_value + " (written " + k.default_text + ")");
        if (p.ignorable != k.ignorable) note(where, "ignorable", yes_no(p.ignorable), yes_no(k.ignorable));
        if (p.zero_copy != k.zero_copy) note(where, "zero copy", yes_no(p.zero_copy), yes_no(k.zero_copy));
        if (!p.fields.empty() || !k.fields.empty()) fields(where, p.fields, k.fields);
    }

    const message_def& p_;
    const message_def& k_;
    version_range within_;
    std::string files_;
    std::vector<difference> out_;
};

std::vector<difference> compare_messages(const message_def& project, const message_def& kafka) {
    return comparer(project, kafka).run();
}

bool served_by_brokers(const message_def& m) {
    return m.kind == "request" && std::any_of(m.listeners.begin(), m.listeners.end(), [](const std::string& l) {
               return l == "broker" || l == "zkBroker";
           });
}

struct crosscheck_result {
    std::vector<difference> differences;
    std::vector<std::string> not_in_kafka;        // project definitions Kafka does not have
    std::vector<std::string> missing_apis;        // broker-served Kafka APIs the project lacks
    std::vector<std::string> not_crosschecked;    // known to live outside the reference
    size_t compared = 0;
};

crosscheck_result crosscheck(const definition_set& project, const definition_set& kafka,
                             const std::set<std::string>& outside_reference) {
    crosscheck_result r;
    for (const auto& [name, p] : project.by_name) {
        auto it = kafka.by_name.find(name);
        if (it == kafka.by_name.end()) {
            (outside_reference.count(name) ? r.not_crosschecked : r.not_in_kafka).push_back(p.file + ": " + name);
            continue;
        }
        auto d = compare_messages(p, it->second);
        r.differences.insert(r.differences.end(), d.begin(), d.end());
        ++r.compared;
    }
    for (const auto& [name, k] : kafka.by_name) {
        if (!served_by_brokers(k) || project.by_name.count(name)) continue;
        std::string listeners;
        for (const auto& l : k.listeners) listeners += (listeners.empty() ? "" : ", ") + l;
        r.missing_apis.push_back(k.file + ": " + name + " (listeners " + listeners + ")");
    }
    return r;
}

// ---- helpers for the tests of the comparison --------------------------------------------------

// A small API using every attribute, in both formats; the two say the same thing.
const char* const sample_project = R"({
  "api": "Sample", "key": 99, "versions": "0-3", "flexible": "2+", "deprecated": "0", "unstable": true,
  "listeners": ["broker", "zkBroker"],
  "request": {
    "fields": [
      {"name": "Name", "type": "string", "nullable": "1+", "default": null},
      {"name": "Limit", "type": "int32", "v": "1+", "default": 2147483647, "ignorable": true},
      {"name": "Items", "type": "[]Item", "fields": [
        {"name": "Id", "type": "uuid"},
        {"name": "Blob", "type": "bytes", "zero_copy": true}
      ]},
      {"name": "Legacy", "type": "string", "v": "0-1", "flexible": "none"},
      {"name": "Hint", "type": "Pair", "v": "2+", "tag": 0, "tagged": "2+"}
    ],
    "structs": {"Pair": [
      {"name": "Left", "type": "int8", "default": 0},
      {"name": "Right", "type": "bool", "default": true}
    ]}
  },
  "response": {"fields": [{"name": "ErrorCode", "type": "int16"}]}
})";

const char* const sample_kafka_request = R"(// Leading comment with "quotes" and a second // marker.
{
  "apiKey": 99,
  "type": "request",
  "listeners": ["zkBroker", "broker"], // order does not matter
  "name": "SampleRequest",
  "validVersions": "0-3",
  "deprecatedVersions": "0",
  "flexibleVersions": "2+",
  "latestVersionUnstable": true,
  "fields": [
    { "name": "Name", "type": "string", "versions": "0+", "nullableVersions": "1+", "default": "null",
      "about": "A URL such as http://example.com/x is not a comment." },
    { "name": "Limit", "type": "int32", "versions": "1+", "default": "0x7fffffff", "ignorable": true },
    { "name": "Items", "type": "[]Item", "versions": "0-3", "fields": [
      { "name": "Id", "type": "uuid", "versions": "0+", "mapKey": true },
      { "name": "Blob", "type": "bytes", "versions": "0+", "zeroCopy": true }
    ]},
    { "name": "Legacy", "type": "string", "versions": "0-1", "flexibleVersions": "none", "ignorable": false },
    // A tagged field without "versions" takes its tagged versions.
    { "name": "Hint", "type": "Pair", "tag": 0, "taggedVersions": "2+" }
  ],
  "commonStructs": [
    { "name": "Pair", "versions": "0+", "fields": [
      { "name": "Left", "type": "int8", "versions": "0+" },
      { "name": "Right", "type": "bool", "versions": "0+", "default": "true" }
    ]}
  ]
})";

message_def sample_project_request() {
    auto defs = read_project_file(json::parse(sample_project), "sample.json");
    return defs.at(0);
}

json sample_kafka_json() { return json::parse(strip_line_comments(sample_kafka_request)); }

std::vector<difference> compare_with_altered_kafka(const std::function<void(json&)>& alter) {
    json k = sample_kafka_json();
    alter(k);
    return compare_messages(sample_project_request(), read_kafka_file(k, "SampleRequest.json"));
}

std::string describe_all(const std::vector<difference>& d) {
    std::string s;
    for (const auto& x : d) s += x.describe() + "\n";
    return s;
}

} // namespace

// ---- tests of the comparison itself -----------------------------------------------------------

TEST_CASE("schema_crosscheck: line comments are removed outside strings only") {
    CHECK(strip_line_comments("{\"a\": 1} // note\n") == "{\"a\": 1} \n");
    CHECK(strip_line_comments("{\"u\": \"http://x//y\"}") == "{\"u\": \"http://x//y\"}");
    CHECK(strip_line_comments("{\"q\": \"say \\\"//\\\" here\"} // c") == "{\"q\": \"say \\\"//\\\" here\"} ");
    CHECK(json::parse(strip_line_comments(sample_kafka_request)).at("name") == "SampleRequest");
}

TEST_CASE("schema_crosscheck: version ranges parse and compare within the valid versions") {
    CHECK(parse_versions("none").empty());
    CHECK(parse_versions("3+").lo == 3);
    CHECK(parse_versions("3+").hi == INT16_MAX);
    CHECK(parse_versions("0-2").hi == 2);
    CHECK(parse_versions("5").lo == 5);
    CHECK_THROWS(parse_versions("x+"));
    const version_range valid = parse_versions("0-17");
    CHECK(parse_versions("0+").clip(valid).same_as(parse_versions("0-17").clip(valid)));
    CHECK(parse_versions("12+").clip(parse_versions("0-11")).same_as(parse_versions("none")));
    CHECK_FALSE(parse_versions("0+").clip(valid).same_as(parse_versions("0-16").clip(valid)));
}

TEST_CASE("schema_crosscheck: defaults compare by value whichever way they are written") {
    CHECK(canonical_default(nullptr, "int32") == "0");
    json hex = "0x7fffffff", neg = "-1", num = 2147483647, minus = -1;
    CHECK(canonical_default(&hex, "int32") == canonical_default(&num, "int32"));
    CHECK(canonical_default(&neg, "int64") == canonical_default(&minus, "int64"));
    json t = "true", tb = true, nul = "null", jnull = nullptr, empty = "";
    CHECK(canonical_default(&t, "bool") == canonical_default(&tb, "bool"));
    CHECK(canonical_default(&nul, "string") == canonical_default(&jnull, "string"));
    CHECK(canonical_default(&empty, "string") != canonical_default(&nul, "string"));
    CHECK(canonical_default(&empty, "string") == canonical_default(nullptr, "string"));
    CHECK(canonical_default(&nul, "[]Foo") != canonical_default(nullptr, "[]Foo"));
}

TEST_CASE("schema_crosscheck: the sample written in both formats has no differences") {
    auto d = compare_messages(sample_project_request(), read_kafka_file(sample_kafka_json(), "SampleRequest.json"));
    INFO(describe_all(d));
    CHECK(d.empty());
}

TEST_CASE("schema_crosscheck: each altered attribute is reported with its path and both values") {
    struct alteration {
        const char* what;
        std::function<void(json&)> alter;
        const char* where;      // the end of difference::where
        const char* attribute;
    };
    const std::vector<alteration> cases = {
        {"api key", [](json& k) { k["apiKey"] = 98; }, "SampleRequest", "api key"},
        {"valid versions", [](json& k) { k["validVersions"] = "0-4"; }, "SampleRequest", "valid versions"},
        {"flexible versions", [](json& k) { k["flexibleVersions"] = "1+"; }, "SampleRequest", "flexible versions"},
        {"deprecated versions", [](json& k) { k.erase("deprecatedVersions"); }, "SampleRequest", "deprecated versions"},
        {"unstable flag", [](json& k) { k.erase("latestVersionUnstable"); }, "SampleRequest",
         "latest version unstable"},
        {"listeners", [](json& k) { k["listeners"] = {"broker"}; }, "SampleRequest", "listeners"},
        {"message type", [](json& k) { k["type"] = "response"; }, "SampleRequest", "kind"},
        {"field order", [](json& k) { std::swap(k["fields"][0], k["fields"][1]); }, "SampleRequest", "field order"},
        {"field name", [](json& k) { k["fields"][3]["name"] = "Old"; }, "SampleRequest", "field names"},
        {"missing field", [](json& k) { k["fields"].erase(3); }, "SampleRequest", "field names"},
        {"field type", [](json& k) { k["fields"][1]["type"] = "int64"; }, "SampleRequest.Limit", "type"},
        {"field versions", [](json& k) { k["fields"][1]["versions"] = "2+"; }, "SampleRequest.Limit", "versions"},
        {"nullable versions", [](json& k) { k["fields"][0]["nullableVersions"] = "0+"; }, "SampleRequest.Name",
         "nullable versions"},
        {"default", [](json& k) { k["fields"][1]["default"] = "-1"; }, "SampleRequest.Limit", "default"},
        {"null default", [](json& k) { k["fields"][0].erase("default"); }, "SampleRequest.Name", "default"},
        {"ignorable", [](json& k) { k["fields"][1].erase("ignorable"); }, "SampleRequest.Limit", "ignorable"},
        {"zero copy", [](json& k) { k["fields"][2]["fields"][1].erase("zeroCopy"); }, "SampleRequest.Items.Blob",
         "zero copy"},
        {"nested field type", [](json& k) { k["fields"][2]["fields"][0]["type"] = "string"; }, "SampleRequest.Items.Id",
         "type"},
        {"field-level flexible versions", [](json& k) { k["fields"][3].erase("flexibleVersions"); },
         "SampleRequest.Legacy", "flexible versions"},
        {"tag", [](json& k) { k["fields"][4]["tag"] = 1; }, "SampleRequest.Hint", "tag"},
        {"tagged versions", [](json& k) { k["fields"][4]["taggedVersions"] = "3+"; k["fields"][4]["versions"] = "2+"; },
         "SampleRequest.Hint", "tagged versions"},
        {"untagged", [](json& k) { k["fields"][4].erase("tag"); k["fields"][4].erase("taggedVersions");
                                   k["fields"][4]["versions"] = "2+"; }, "SampleRequest.Hint", "tag"},
        {"common struct field default", [](json& k) { k["commonStructs"][0]["fields"][1]["default"] = "false"; },
         "SampleRequest.Pair.Right", "default"},
        {"common struct name", [](json& k) { k["commonStructs"][0]["name"] = "Couple"; }, "SampleRequest",
         "common structs"},
    };
    for (const auto& c : cases) {
        auto d = compare_with_altered_kafka(c.alter);
        INFO(c.what << "\n" << describe_all(d));
        const bool found = std::any_of(d.begin(), d.end(), [&](const difference& x) {
            const std::string w = x.where;
            const std::string suffix = std::string(": ") + c.where;
            return x.attribute == c.attribute && w.size() >= suffix.size() &&
                   w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
        });
        CHECK(found);
    }
}

TEST_CASE("schema_crosscheck: a difference names both files, the path, the attribute and both values") {
    auto d = compare_with_altered_kafka([](json& k) { k["fields"][0]["nullableVersions"] = "0+"; });
    REQUIRE(d.size() == 1);
    CHECK(d[0].describe() ==
          "sample.json / SampleRequest.json: SampleRequest.Name: nullable versions: "
          "project \"1+\", Kafka \"0+\" (compared within versions 0-3)");
}

TEST_CASE("schema_crosscheck: missing broker APIs and definitions Kafka lacks are reported") {
    definition_set project, kafka;
    for (auto& m : read_project_file(json::parse(sample_project), "sample.json")) add(project, m);
    add(kafka, read_kafka_file(sample_kafka_json(), "SampleRequest.json"));
    json other = sample_kafka_json();
    other["name"] = "OtherRequest";
    other["apiKey"] = 100;
    add(kafka, read_kafka_file(other, "OtherRequest.json"));
    other["name"] = "QuorumOnlyRequest";
    other["listeners"] = {"controller"};
    add(kafka, read_kafka_file(other, "QuorumOnlyRequest.json"));

    auto r = crosscheck(project, kafka, {});
    CHECK(r.differences.empty());
    REQUIRE(r.missing_apis.size() == 1);  // the controller-only API is not required
    CHECK(r.missing_apis[0].find("OtherRequest") != std::string::npos);
    REQUIRE(r.not_in_kafka.size() == 1);  // the sample has no response in the reference
    CHECK(r.not_in_kafka[0] == "sample.json: SampleResponse");

    auto known = crosscheck(project, kafka, {"SampleResponse"});
    CHECK(known.not_in_kafka.empty());
    CHECK(known.not_crosschecked.size() == 1);
}

TEST_CASE("schema_crosscheck: an alteration of a real project definition is caught") {
    const fs::path kafka_dir = SAMSA_KAFKA_REFERENCE_DIR;
    if (!fs::is_directory(kafka_dir)) {
        MESSAGE("skipped: Kafka's message definitions are not at " << kafka_dir.string());
        return;
    }
    auto project = load_project(SAMSA_SCHEMA_DIR);
    auto kafka = load_kafka(kafka_dir);
    REQUIRE(project.by_name.count("FetchRequest"));
    REQUIRE(kafka.by_name.count("FetchRequest"));
    message_def altered = project.by_name.at("FetchRequest");
    REQUIRE(altered.fields.size() > 2);
    std::swap(altered.fields[1], altered.fields[2]);
    auto d = compare_messages(altered, kafka.by_name.at("FetchRequest"));
    INFO(describe_all(d));
    REQUIRE(d.size() == 1);
    CHECK(d[0].attribute == "field order");
}

// ---- the real cross-check -------------------------------------------------------------------

TEST_CASE("schema_crosscheck: every project definition matches Kafka's") {
    const fs::path kafka_dir = SAMSA_KAFKA_REFERENCE_DIR;
    if (!fs::is_directory(kafka_dir)) {
        MESSAGE("skipped: Kafka's message definitions are not at " << kafka_dir.string()
                                                                    << " (nothing to compare against)");
        return;
    }
    const auto project = load_project(SAMSA_SCHEMA_DIR);
    const auto kafka = load_kafka(kafka_dir);
    for (const auto& e : project.errors) FAIL_CHECK("project definition: " << e);
    for (const auto& e : kafka.errors) FAIL_CHECK("Kafka definition: " << e);
    REQUIRE(project.by_name.size() > 0);
    REQUIRE(kafka.by_name.size() > 0);

    const auto r = crosscheck(project, kafka, defined_outside_reference);
    for (const auto& d : r.differences) FAIL_CHECK(d.describe());
    for (const auto& n : r.not_in_kafka) FAIL_CHECK("defined in the project but not by Kafka: " << n);
    for (const auto& n : r.missing_apis) FAIL_CHECK("served by Kafka brokers but not defined in the project: " << n);
    for (const auto& n : r.not_crosschecked)
        MESSAGE("not cross-checked (Kafka defines it outside the reference): " << n);
    // The list of such definitions must not outlive them.
    for (const auto& name : defined_outside_reference) {
        INFO(name);
        CHECK(project.by_name.count(name) == 1);
    }
    CHECK(r.compared > 100);
}
