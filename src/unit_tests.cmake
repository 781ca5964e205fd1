# Unit tests: one GoogleTest binary per component, sources beside the code they test
# (DESIGN.md §6). Included from tests/CMakeLists.txt; paths are absolute so the file works
# from any directory.
set(SLUICE_SRC ${PROJECT_SOURCE_DIR}/src)

sluice_test(sluice_core_test
  SOURCES ${SLUICE_SRC}/core/errors_test.cc ${SLUICE_SRC}/core/json_text_test.cc
          ${SLUICE_SRC}/core/response_head_test.cc ${SLUICE_SRC}/core/request_id_test.cc
          ${SLUICE_SRC}/core/filter_chain_test.cc ${SLUICE_SRC}/core/json_writer_test.cc
          ${SLUICE_SRC}/core/recycled_allocation_test.cc ${SLUICE_SRC}/core/json_line_writer_test.cc
  DEPS sluice_core
  LABELS unit)

sluice_test(sluice_http_wire_test
  SOURCES ${SLUICE_SRC}/http/http_parser_test.cc ${SLUICE_SRC}/http/sse_test.cc
          ${SLUICE_SRC}/http/response_writer_test.cc
  DEPS sluice_wire
  LABELS unit)

sluice_test(sluice_config_test
  SOURCES ${SLUICE_SRC}/config/units_test.cc ${SLUICE_SRC}/config/loader_test.cc
          ${SLUICE_SRC}/config/health_check_loader_test.cc
          ${SLUICE_SRC}/config/split_loader_test.cc
          ${SLUICE_SRC}/config/deployment_limits_loader_test.cc
  DEPS sluice_config
  LABELS unit)

sluice_test(sluice_routing_test
  SOURCES ${SLUICE_SRC}/routing/router_test.cc
  DEPS sluice_routing
  LABELS unit)

sluice_test(sluice_providers_test
  SOURCES ${SLUICE_SRC}/providers/openai/upstream_request_test.cc
  DEPS sluice_providers sluice_routing sluice_wire
  LABELS unit)

sluice_test(sluice_filters_test
  SOURCES ${SLUICE_SRC}/filters/registry_test.cc
          ${SLUICE_SRC}/filters/access_log/access_log_filter_test.cc
          ${SLUICE_SRC}/filters/request_id/request_id_filter_test.cc
          ${SLUICE_SRC}/filters/rate_limit/budget_extension_test.cc
  DEPS sluice_filters
  LABELS unit)

sluice_test(sluice_observability_test
  SOURCES ${SLUICE_SRC}/observability/line_sink_test.cc
          ${SLUICE_SRC}/observability/redactor_test.cc
          ${SLUICE_SRC}/observability/app_log_test.cc
          ${SLUICE_SRC}/observability/prometheus_text_test.cc
          ${SLUICE_SRC}/observability/process_metrics_test.cc
          ${SLUICE_SRC}/observability/metrics_registry_test.cc
          ${PROJECT_SOURCE_DIR}/tests/testing/prometheus_scrape.cc
  DEPS sluice_observability
  LABELS unit)

# Tracing: traceparent/tracestate, sampling, the OTLP JSON encoding, and the exporter
# against the in-process OTLP receiver (compiled in, so the test needs no server libraries).
sluice_test(sluice_tracing_test
  SOURCES ${SLUICE_SRC}/observability/trace_context_test.cc
          ${SLUICE_SRC}/observability/sampler_test.cc
          ${SLUICE_SRC}/observability/otlp_json_test.cc
          ${SLUICE_SRC}/observability/otlp_exporter_test.cc
          ${PROJECT_SOURCE_DIR}/tests/testing/otlp_receiver.cc
  DEPS sluice_observability
  LABELS unit)

sluice_test(sluice_store_test
  SOURCES ${SLUICE_SRC}/store/sqlite/migrations_test.cc ${SLUICE_SRC}/store/sqlite/sqlite_store_test.cc
          ${SLUICE_SRC}/store/sqlite/string_list_test.cc
          ${SLUICE_SRC}/store/sqlite/sqlite_keys_test.cc ${SLUICE_SRC}/store/sqlite/sqlite_users_test.cc
          ${SLUICE_SRC}/store/sqlite/sqlite_tokens_test.cc ${SLUICE_SRC}/store/sqlite/sqlite_audit_test.cc
          ${SLUICE_SRC}/store/sqlite/sqlite_concurrency_test.cc
          ${SLUICE_SRC}/store/sqlite/sqlite_usage_test.cc
  DEPS sluice_store
  LABELS unit)

sluice_test(sluice_usage_test
  SOURCES ${SLUICE_SRC}/usage/usage_record_test.cc ${SLUICE_SRC}/usage/usage_journal_test.cc
          ${SLUICE_SRC}/usage/usage_exporter_test.cc
  DEPS sluice_usage
  LABELS unit)

sluice_test(sluice_jwt_test
  SOURCES ${SLUICE_SRC}/auth/jwt/test_keys.cc ${SLUICE_SRC}/auth/jwt/base64url_test.cc
          ${SLUICE_SRC}/auth/jwt/jwk_test.cc ${SLUICE_SRC}/auth/jwt/verify_test.cc
          ${SLUICE_SRC}/auth/jwt/attack_test.cc ${SLUICE_SRC}/auth/jwt/jwks_cache_test.cc
          ${SLUICE_SRC}/auth/jwt/verified_token_cache_test.cc
  DEPS sluice_jwt
  LABELS unit)

sluice_test(sluice_auth_test
  SOURCES ${SLUICE_SRC}/auth/api_key_test.cc ${SLUICE_SRC}/auth/access_policy_test.cc
          ${SLUICE_SRC}/auth/key_cache_test.cc ${SLUICE_SRC}/auth/audit_log_test.cc
          ${SLUICE_SRC}/auth/login_service_test.cc ${SLUICE_SRC}/auth/authenticator_test.cc
  DEPS sluice_auth
  LABELS unit)

sluice_test(sluice_limits_test
  SOURCES ${SLUICE_SRC}/limits/gcra_test.cc ${SLUICE_SRC}/limits/local_limiter_store_test.cc
          ${SLUICE_SRC}/limits/token_estimator_test.cc ${SLUICE_SRC}/limits/calendar_window_test.cc
          ${SLUICE_SRC}/limits/price_table_test.cc ${SLUICE_SRC}/limits/key_overrides_test.cc
          ${SLUICE_SRC}/limits/limit_plan_test.cc
  DEPS sluice_limits sluice_limits_runtime
  LABELS unit)

# The Redis client and the Redis limiter store against a REAL redis-server that each test
# starts on a free loopback port (a missing redis-server fails the tests).
sluice_test(sluice_redis_test
  SOURCES ${SLUICE_SRC}/store/redis/resp_test.cc ${SLUICE_SRC}/store/redis/redis_client_test.cc
          ${SLUICE_SRC}/store/redis/redis_test_server.cc
          ${SLUICE_SRC}/limits/redis_limiter_store_test.cc
          ${PROJECT_SOURCE_DIR}/tests/testing/child_process.cc
  DEPS sluice_redis sluice_limits_redis
  LABELS integration)

# Issue 5's routing building blocks: balancers, live deployment stats, circuit breaker,
# outlier detection, retry budget, backoff and retry hints (manual clock, seeded random).
sluice_test(sluice_routing_resilience_test
  SOURCES ${SLUICE_SRC}/routing/balancer_test.cc ${SLUICE_SRC}/routing/consistent_hash_test.cc
          ${SLUICE_SRC}/routing/deployment_stats_test.cc
          ${SLUICE_SRC}/routing/circuit_breaker_test.cc
          ${SLUICE_SRC}/routing/outlier_detector_test.cc
          ${SLUICE_SRC}/routing/retry_budget_test.cc ${SLUICE_SRC}/routing/backoff_test.cc
          ${SLUICE_SRC}/routing/model_group_test.cc
          ${SLUICE_SRC}/routing/backend_health_test.cc ${SLUICE_SRC}/routing/health_checker_test.cc
          ${SLUICE_SRC}/routing/traffic_split_test.cc
          ${SLUICE_SRC}/routing/deployment_limits_test.cc
  DEPS sluice_routing
  LABELS unit)

# A key's limit overrides as the admin API's `limits` object (validation, merge patches).
sluice_test(sluice_admin_unit_test
  SOURCES ${SLUICE_SRC}/admin/key_limits_json_test.cc
  DEPS sluice_admin
  LABELS unit)

# The server's own parts that need no network: the configuration file watch (real inotify
# in a temporary directory).
sluice_test(sluice_server_test
  SOURCES ${SLUICE_SRC}/config_file_watch_test.cc
  DEPS sluice_server
  LABELS unit)
