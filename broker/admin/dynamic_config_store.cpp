#include "broker/admin/dynamic_config_store.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace samsa::broker {

namespace {

using json = nlohmann::json;

std::string errno_text(const char* what, const std::filesystem::path& p) {
    return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}

json to_json(const dynamic_config_image& m) {
    json quotas = json::array();
    for (const auto& [entity, values] : m.client_quotas) {
        json e = json::object();
        for (const auto& [type, name] : entity) e[type] = name ? json(*name) : json(nullptr);
        quotas.push_back({{"entity", e}, {"values", values}});
    }
    return {{"format", dynamic_config_format_version},
            {"cluster_default", m.cluster_dynamic},
            {"node", m.node_dynamic},
            {"client_quotas", quotas}};
}

dynamic_config_image from_json(const json& j) {
    if (j.at("format").get<int>() != dynamic_config_format_version)
        throw std::runtime_error("unsupported format " + j.at("format").dump());
    dynamic_config_image m;
    for (const auto& [k, v] : j.at("cluster_default").items()) m.cluster_dynamic[k] = v.get<std::string>();
    for (const auto& [k, v] : j.at("node").items()) m.node_dynamic[k] = v.get<std::string>();
    for (const auto& q : j.at("client_quotas")) {
        quota_entity entity;
        for (const auto& [type, name] : q.at("entity").items())
            entity[type] = name.is_null() ? std::nullopt : std::optional<std::string>(name.get<std::string>());
        m.client_quotas[entity] = q.at("values").get<quota_values>();
    }
    return m;
}

bool write_all(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

} // namespace

dynamic_config_image dynamic_config_store::load() const {
    const auto file = path();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        if (ec) throw std::runtime_error("cannot inspect " + file.string() + ": " + ec.message());
        return {};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream os;
    os << in.rdbuf();
    try {
        return from_json(json::parse(os.str()));
    } catch (const std::exception& e) {
        throw std::runtime_error("corrupt dynamic configuration file " + file.string() + ": " + e.what());
    }
}

std::optional<std::string> dynamic_config_store::save(const dynamic_config_image& image) const {
    std::string text;
    try {
        text = to_json(image).dump(2) + "\n";
    } catch (const std::exception& e) {
        return std::string("cannot encode the dynamic configuration: ") + e.what();
    }
    const auto final_path = path();
    const auto temp_path = dir_ / (std::string(dynamic_config_file_name) + ".tmp");
    const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_text("cannot create", temp_path);
    const bool written = write_all(fd, text) && ::fsync(fd) == 0;
    auto err = written ? std::nullopt : std::optional<std::string>(errno_text("cannot write", temp_path));
    if (::close(fd) != 0 && !err) err = errno_text("cannot close", temp_path);
    if (err) return err;
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) return errno_text("cannot rename", temp_path);
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return errno_text("cannot open", dir_);
    if (::fsync(dfd) != 0) err = errno_text("cannot fsync", dir_);
    if (::close(dfd) != 0 && !err) err = errno_text("cannot close", dir_);
    return err;
}

} // namespace samsa::broker
