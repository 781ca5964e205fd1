// YAML → Snapshot: one reader per top-level section, all reporting through Diagnostics.
#include "config/loader.h"

#include <openssl/sha.h>

#include <boost/url/parse.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "config/auth_loader.h"
#include "config/config_node.h"
#include "config/health_check_loader.h"
#include "config/limits_loader.h"
#include "config/observability_loader.h"
#include "config/routing_loader.h"
#include "config/split_loader.h"
#include "config/tls_client_context.h"

namespace sluice {
namespace {

void ReadServer(const ConfigNode& node, ServerConfig& server) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"listen", "workers", "max_head_bytes", "max_header_fields", "max_uri_bytes",
                  "max_body_bytes", "header_timeout", "body_timeout", "write_timeout",
                  "keepalive_timeout", "idle_release_after", "drain_timeout", "max_sse_event_bytes",
                  "watch_config"});
  if (node.Has("listen")) {
    ConfigNode listen = node.Child("listen");
    if (auto text = listen.Scalar()) {
      if (auto addr = ParseListenAddress(*text)) {
        server.listen = *addr;
      } else {
        listen.Error(
            "must be host:port with a numeric address, such as 127.0.0.1:8080 or "
            "[::1]:8080, not '" +
            *text + "'");
      }
    }
  }
  std::string workers = node.String("workers", "auto");
  if (workers == "auto") {
    server.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  } else {
    server.workers = static_cast<int>(node.Int("workers", 1, 1, 256));
  }
  server.max_head_bytes = node.Size("max_head_bytes", server.max_head_bytes);
  server.max_header_fields = static_cast<size_t>(node.Int("max_header_fields", 100, 8, 10'000));
  server.max_uri_bytes = node.Size("max_uri_bytes", server.max_uri_bytes);
  server.max_body_bytes = node.Size("max_body_bytes", server.max_body_bytes);
  server.header_timeout = node.Duration("header_timeout", server.header_timeout);
  server.body_timeout = node.Duration("body_timeout", server.body_timeout);
  server.write_timeout = node.Duration("write_timeout", server.write_timeout);
  server.keepalive_timeout = node.Duration("keepalive_timeout", server.keepalive_timeout);
  server.idle_release_after = node.Duration("idle_release_after", server.idle_release_after);
  server.drain_timeout = node.Duration("drain_timeout", server.drain_timeout);
  server.max_sse_event_bytes = node.Size("max_sse_event_bytes", server.max_sse_event_bytes);
  server.watch_config = node.Bool("watch_config", server.watch_config);
  if (server.max_head_bytes < 1024) node.Child("max_head_bytes").Error("must be at least 1KiB");
  if (server.max_uri_bytes >= server.max_head_bytes) {
    node.Child("max_uri_bytes").Error("must be smaller than max_head_bytes");
  }
}

void ReadRoutes(const ConfigNode& node, Snapshot& snap) {
  if (!node.ExpectMap()) return;
  for (auto& [path, settings] : node.Entries()) {
    RouteKind kind;
    if (path == "/v1/chat/completions") {
      kind = RouteKind::kChatCompletions;
    } else if (path == "/v1/completions") {
      kind = RouteKind::kCompletions;
    } else if (path == "/v1/embeddings") {
      kind = RouteKind::kEmbeddings;
    } else {
      settings.Error("unknown route '" + path +
                     "' (expected /v1/chat/completions, /v1/completions or /v1/embeddings)");
      continue;
    }
    if (!settings.ExpectMap(false)) continue;
    settings.AllowKeys({"max_body_bytes", "first_byte_timeout", "idle_timeout", "total_timeout"});
    RouteConfig& route = snap.routes[static_cast<size_t>(kind)];
    route.max_body_bytes = settings.Size("max_body_bytes", 0);
    route.first_byte_timeout = settings.Duration("first_byte_timeout", milliseconds(0));
    route.idle_timeout = settings.Duration("idle_timeout", milliseconds(0));
    route.total_timeout = settings.Duration("total_timeout", milliseconds(0));
  }
}

void ReadBackend(const ConfigNode& node, BackendConfig& b) {
  node.AllowKeys({"name", "url", "api_key_env", "headers", "connect_timeout", "first_byte_timeout",
                  "idle_timeout", "total_timeout", "pool_idle_timeout", "max_idle_connections",
                  "max_response_bytes", "tls", "health_check"});
  b.name = node.String("name", "");
  if (b.name.empty()) node.Error("a backend needs a name");
  b.url = node.String("url", "");
  if (b.url.empty()) {
    node.Error("backend '" + b.name + "' needs a url");
  } else {
    auto parsed = boost::urls::parse_absolute_uri(b.url);
    ConfigNode url_node = node.Child("url");
    if (!parsed) {
      url_node.Error("is not a valid URL: '" + b.url + "'");
    } else {
      std::string scheme(parsed->scheme());
      if (scheme != "http" && scheme != "https") {
        url_node.Error("must start with http:// or https://");
      }
      if (parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment()) {
        url_node.Error("must not contain credentials, a query or a fragment");
      }
      b.tls = scheme == "https";
      b.host = std::string(parsed->host_address());
      if (b.host.empty()) url_node.Error("must name a host");
      b.port = parsed->has_port() ? parsed->port_number() : (b.tls ? 443 : 80);
      if (parsed->has_port() && b.port == 0) url_node.Error("has an invalid port");
      b.base_path = std::string(parsed->encoded_path());
      while (!b.base_path.empty() && b.base_path.back() == '/') b.base_path.pop_back();
      std::string host_text(parsed->encoded_host_and_port());
      b.host_header = host_text;
    }
  }
  b.api_key_env = node.String("api_key_env", "");
  if (!b.api_key_env.empty()) {
    const char* key = std::getenv(b.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      node.Child("api_key_env").Error("environment variable " + b.api_key_env + " is not set");
    } else {
      b.api_key = key;
    }
  }
  ConfigNode headers = node.Child("headers");
  if (headers.ExpectMap()) {
    for (auto& [name, value] : headers.Entries()) {
      auto text = value.Scalar();
      if (!text) continue;
      bool ok = !name.empty() && name.find_first_of(":\r\n ") == std::string::npos &&
                text->find_first_of("\r\n") == std::string::npos;
      if (!ok) {
        value.Error("is not a valid header");
        continue;
      }
      b.extra_headers += name + ": " + *text + "\r\n";
    }
  }
  b.connect_timeout = node.Duration("connect_timeout", b.connect_timeout);
  b.first_byte_timeout = node.Duration("first_byte_timeout", b.first_byte_timeout);
  b.idle_timeout = node.Duration("idle_timeout", b.idle_timeout);
  b.total_timeout = node.Duration("total_timeout", b.total_timeout);
  b.pool_idle_timeout = node.Duration("pool_idle_timeout", b.pool_idle_timeout);
  b.max_idle_connections = static_cast<size_t>(node.Int("max_idle_connections", 64, 0, 100'000));
  b.max_response_bytes = node.Size("max_response_bytes", b.max_response_bytes);
  ConfigNode tls = node.Child("tls");
  std::string ca_file;
  if (tls.ExpectMap()) {
    tls.AllowKeys({"verify", "ca_file", "server_name"});
    b.tls_verify = tls.Bool("verify", true);
    ca_file = tls.String("ca_file", "");
    b.server_name = tls.String("server_name", "");
  }
  if (b.server_name.empty()) b.server_name = b.host;
  b.tls_ca_file = ca_file;
  if (b.tls) b.tls_context = MakeTlsClientContext(tls, b.tls_verify, ca_file);
}

void ReadModel(const ConfigNode& node, const Snapshot& snap, ModelConfig& m) {
  node.AllowKeys({"name", "aliases", "backend", "upstream_model", "price", "deployments",
                  "balancer", "hash_key", "retries", "circuit_breaker", "outlier_detection",
                  "fallbacks", "split", "experiment"});
  m.name = node.String("name", "");
  if (m.name.empty()) node.Error("a model needs a name");
  m.aliases = node.StringList("aliases");
  // A split model is served by its arms; any other is a group of deployments.
  if (!ReadModelSplit(node, m)) ReadModelGroup(node, snap, m);
  ReadModelPrice(node.Child("price"), m.price);
}

void ReadFilters(const ConfigNode& node, const FilterCatalog& catalog, Snapshot& snap) {
  std::vector<std::shared_ptr<const FilterFactory>> factories;
  if (!node.defined()) {
    for (std::string_view name :
         catalog.DefaultChain(snap.auth.configured, snap.limits.configured)) {
      ConfigNode empty(YAML::Node(YAML::NodeType::Map), &node.diagnostics(), std::string(name));
      if (auto f = catalog.Build(name, empty)) factories.push_back(std::move(f));
    }
  } else if (!node.is_sequence()) {
    node.Error("must be a list of filters, such as '- request_id: {}'");
  } else {
    std::set<std::string> seen;
    for (const ConfigNode& item : node.Items()) {
      auto entries = item.Entries();
      if (!item.is_map() || entries.size() != 1) {
        item.Error("each filter is a mapping with one key, the filter name");
        continue;
      }
      auto& [name, settings] = entries.front();
      if (!seen.insert(name).second) {
        item.Error("filter '" + name + "' appears twice");
        continue;
      }
      // "- name:" without settings: the (null) child still knows its line for errors.
      ConfigNode effective = settings.defined() ? settings : item.Child(name);
      if (effective.defined() && !effective.is_map()) {
        settings.Error("filter settings must be a mapping");
        continue;
      }
      // authorize lets requests without a principal through: without auth before it, it
      // would silently authorize nothing.
      if (name == "authorize" && !seen.contains("auth")) {
        item.Error("filter 'authorize' needs the 'auth' filter earlier in the chain");
        continue;
      }
      if (name == "rate_limit" && !snap.limits.configured) {
        item.Error("filter 'rate_limit' needs a limits: section (its policies)");
        continue;
      }
      if (auto f = catalog.Build(name, effective)) factories.push_back(std::move(f));
    }
  }
  snap.chain = FilterChain(std::move(factories));
}

// "sha256:" + 12 hex digits of the text's SHA-256.
std::string ContentId(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sha256:";
  for (int i = 0; i < 6; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
}

LoadResult Load(const YAML::Node& root, Diagnostics& diag, const std::string& source,
                const FilterCatalog& catalog, std::string_view text) {
  auto snap = std::make_shared<Snapshot>();
  snap->source = source;
  snap->loaded_at = std::chrono::system_clock::now();
  snap->content_id = ContentId(text);
  for (std::string_view section : kRestartOnlySections) {
    const YAML::Node node = root.IsMap() ? root[std::string(section)] : YAML::Node();
    snap->restart_only_sections.push_back(node.IsDefined() ? YAML::Dump(node) : std::string());
  }
  ConfigNode top(root, &diag);
  if (!root.IsMap()) {
    diag.Error(1, "the configuration must be a YAML mapping");
  } else {
    top.AllowKeys({"version", "server", "routes", "backends", "models", "filters", "auth", "store",
                   "admin", "limits", "routing", "observability", "logging"});
    if (top.Has("version") && top.Int("version", 1, 1, 1) != 1) diag.Error(0, "bad version");
    ReadServer(top.Child("server"), snap->server);
    ReadRoutes(top.Child("routes"), *snap);
    // Before the backends: their health_check: blocks apply over routing.health_check.
    ReadRoutingDefaults(top.Child("routing"), snap->routing);
    ConfigNode backends = top.Child("backends");
    if (backends.defined() && !backends.is_sequence()) backends.Error("must be a list");
    std::set<std::string> names;
    for (const ConfigNode& item : backends.Items()) {
      if (!item.ExpectMap(false)) continue;
      auto b = std::make_unique<BackendConfig>();
      b->index = snap->backends.size();
      ReadBackend(item, *b);
      ReadBackendHealthCheck(item.Child("health_check"), snap->routing.health_check,
                             b->health_check);
      if (!b->name.empty() && !names.insert(b->name).second) {
        item.Error("duplicate backend name '" + b->name + "'");
      }
      snap->backends.push_back(std::move(b));
    }
    ConfigNode models = top.Child("models");
    if (models.defined() && !models.is_sequence()) models.Error("must be a list");
    std::set<std::string> model_names;
    std::vector<ConfigNode> model_nodes;
    for (const ConfigNode& item : models.Items()) {
      if (!item.ExpectMap(false)) continue;
      auto m = std::make_unique<ModelConfig>();
      m->index = snap->models.size();
      model_nodes.push_back(item);
      ReadModel(item, *snap, *m);
      if (!m->name.empty() && !model_names.insert(m->name).second) {
        item.Error("duplicate model name '" + m->name + "'");
      }
      for (const std::string& alias : m->aliases) {
        if (!model_names.insert(alias).second) {
          item.Child("aliases").Error("alias '" + alias + "' is already a model name or alias");
        }
      }
      snap->models.push_back(std::move(m));
    }
    LinkModelGroups(model_nodes, *snap);
    LinkModelSplits(model_nodes, *snap);
    ReadAuth(top.Child("auth"), snap->auth);
    ReadStore(top.Child("store"), snap->store);
    ReadAdmin(top.Child("admin"), snap->admin);
    ReadLimits(top.Child("limits"), snap->limits);
    ReadObservability(top.Child("observability"), snap->observability);
    ReadLogging(top.Child("logging"), snap->logging);
    // Against the names read above: FindModel's index is built by Finalize, after loading.
    for (const std::string& name : snap->observability.required_models) {
      if (model_names.count(name) == 0) {
        top.Child("observability").Error("probes.required_models: unknown model '" + name + "'");
      }
    }
    ReadFilters(top.Child("filters"), catalog, *snap);
  }
  LoadResult result;
  if (!diag.ok()) {
    result.errors = diag.errors();
    return result;
  }
  snap->Finalize();
  result.snapshot = std::move(snap);
  return result;
}

}  // namespace

LoadResult LoadConfigText(std::string_view yaml, const std::string& name,
                          const FilterCatalog& catalog) {
  Diagnostics diag(name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    diag.Error(e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg);
    return LoadResult{nullptr, diag.errors()};
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  return Load(root, diag, name, catalog, yaml);
}

LoadResult LoadConfigFile(const std::string& path, const FilterCatalog& catalog) {
  std::ifstream in(path);
  if (!in) {
    Diagnostics diag(path);
    diag.Error(0, "cannot open the configuration file");
    return LoadResult{nullptr, diag.errors()};
  }
  std::stringstream text;
  text << in.rdbuf();
  return LoadConfigText(text.str(), path, catalog);
}

}  // namespace sluice
