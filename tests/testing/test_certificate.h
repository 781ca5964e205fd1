// TestCertificate: a self-signed certificate for tests of TLS peers (HTTPS upstreams, an HTTPS
// OTLP collector): CN=localhost with subjectAltName localhost and 127.0.0.1, an EC P-256 key,
// valid one day, made per run with the openssl CLI in a fresh temporary directory that the
// destructor removes. Not thread-safe; one per test suite or test.
#pragma once

#include <string>

namespace sluice::testing {

class TestCertificate {
 public:
  TestCertificate();  // a failed openssl run fails the current test (ADD_FAILURE)
  ~TestCertificate();
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  bool ok() const { return ok_; }
  std::string cert_file() const { return dir_ + "/cert.pem"; }  // also the CA to trust
  std::string key_file() const { return dir_ + "/key.pem"; }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace sluice::testing
