//===- runtime/agent/Client.cpp - The controller's side of a metron-agent connection -------------===//
#include "runtime/agent/Client.h"

#include <httplib.h>
#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace metron::agent {

std::string base64Encode(const std::string &s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), reinterpret_cast<const unsigned char *>(s.data()),
                          int(s.size()));
  out.resize(size_t(n));
  return out;
}

std::string sha256Hex(const std::string &data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char *hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

bool readTokenFile(const std::string &path, const std::string &option, std::string &token, std::string &err) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    err = option + ": cannot read '" + path + "': " + strerror(errno);
    return false;
  }
  if (st.st_mode & 077) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    err = option + ": '" + path + "' has mode " + mode + ": others can read the token; chmod 600 it";
    return false;
  }
  std::ifstream in(path);
  token.clear();
  std::getline(in, token);
  while (!token.empty() && isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < 16) {
    err = option + ": the token in '" + path + "' has " + std::to_string(token.size()) +
          " characters; use at least 16 (e.g. head -c 24 /dev/urandom | base64)";
    return false;
  }
  for (char c : token)
    if (c <= ' ' || c > '~') {
      err = option + ": the token in '" + path + "' must be printable ASCII without spaces";
      return false;
    }
  return true;
}

AgentClient::AgentClient(std::string address, std::string token, unsigned timeoutMs)
    : address_(std::move(address)), token_(std::move(token)), timeoutMs_(timeoutMs) {
  size_t c = address_.rfind(':');
  host_ = c == std::string::npos ? address_ : address_.substr(0, c);
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
  port_ = c == std::string::npos ? 0 : atoi(address_.c_str() + c + 1);
}

AgentReply AgentClient::call(const std::string &method, const std::string &path, const nlohmann::json *body) const {
  AgentReply r;
  const auto t0 = std::chrono::steady_clock::now();
  httplib::Client cli(host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_, port_);
  cli.set_connection_timeout(std::chrono::milliseconds(timeoutMs_));
  cli.set_read_timeout(std::chrono::milliseconds(timeoutMs_));
  cli.set_write_timeout(std::chrono::milliseconds(timeoutMs_));
  cli.set_bearer_token_auth(token_);
  const std::string data = body ? body->dump() : "";
  auto send = [&]() -> httplib::Result {
    if (method == "POST") return cli.Post(path, data, "application/json");
    if (method == "PUT") return cli.Put(path, data, "application/json");
    if (method == "DELETE") return body ? cli.Delete(path, data, "application/json") : cli.Delete(path);
    return cli.Get(path);
  };
  httplib::Result res = send();
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!res) {
    r.error = "metron-agent at " + address_ + " did not answer (" + httplib::to_string(res.error()) + ")";
    return r;
  }
  r.status = res->status;
  r.body = nlohmann::json::parse(res->body, nullptr, false);
  if (r.body.is_discarded()) r.body = nullptr;
  if (r.status / 100 != 2) {
    std::string why = r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()
                          ? r.body["error"].get<std::string>()
                          : res->body.substr(0, 300);
    r.error = "metron-agent at " + address_ + ": HTTP " + std::to_string(r.status) + ": " + why;
  }
  return r;
}

} // namespace metron::agent
