// MakeTlsClientContext (see tls_client_context.h).
#include "config/tls_client_context.h"

namespace sluice {

std::shared_ptr<boost::asio::ssl::context> MakeTlsClientContext(const ConfigNode& tls, bool verify,
                                                                const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (verify) {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!ca_file.empty()) {
      ctx->load_verify_file(ca_file, ec);
      if (ec) tls.Child("ca_file").Error("cannot load CA file '" + ca_file + "': " + ec.message());
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) tls.Error("cannot load the system CA certificates: " + ec.message());
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  return ctx;
}

}  // namespace sluice
