// TestCertificate (see test_certificate.h).
#include "tests/testing/test_certificate.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testing/child_process.h"

namespace sluice::testing {

TestCertificate::TestCertificate() : dir_(WriteTempFile("tls", "")) {
  std::string cmd = "rm -f " + dir_ + " && mkdir -p " + dir_ + " && openssl req -x509 " +
                    "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 " +
                    "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 " +
                    "-keyout " + key_file() + " -out " + cert_file() + " 2>/dev/null";
  ok_ = std::system(cmd.c_str()) == 0;
  if (!ok_) ADD_FAILURE() << "openssl CLI is required (scripts/install-deps)";
}

TestCertificate::~TestCertificate() { std::system(("rm -rf " + dir_).c_str()); }

}  // namespace sluice::testing
