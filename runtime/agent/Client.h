//===- runtime/agent/Client.h - The controller's side of a metron-agent connection -*- C++ -*-===//
///
/// \file
/// What `metronc deploy`, `status` and `undeploy` use to talk to metron-agent (man/metron-agent.8):
/// one JSON request, its answer, and an error that says which agent and why. Also the token
/// file both sides read (first line, at least 16 printable characters, mode 0600).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace metron::agent {

/// SC_DEPLOY_REQ's encoding of an executable: base64 (RFC 4648, padded, one line) and SHA-256 (hex).
std::string base64Encode(const std::string &bytes);
std::string sha256Hex(const std::string &bytes);

/// Reads a bearer token file; false and \p err (naming \p option) when it is missing, open to
/// others, too short or not printable.
bool readTokenFile(const std::string &path, const std::string &option, std::string &token, std::string &err);

struct AgentReply {
  int status = 0;          ///< HTTP status; 0 when the agent could not be reached
  nlohmann::json body;     ///< the agent's JSON (null when none)
  std::string error;       ///< why the request failed ("" on a 2xx)
  double ms = 0;           ///< the request's wall time
};

class AgentClient {
public:
  /// \p address: "IP:PORT" (IPv6 in brackets); \p timeoutMs bounds connecting and each read.
  AgentClient(std::string address, std::string token, unsigned timeoutMs = 60000);
  AgentReply call(const std::string &method, const std::string &path, const nlohmann::json *body = nullptr) const;
  const std::string &address() const { return address_; }

private:
  std::string address_, host_, token_;
  int port_ = 0;
  unsigned timeoutMs_;
};

} // namespace metron::agent
