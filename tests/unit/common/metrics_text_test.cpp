#include "common/metrics_text.h"

#include <doctest/doctest.h>

#include <string>

using wampd::core::Histogram;
using wampd::core::MetricsText;

TEST_CASE("a family's HELP and TYPE come once, before its first sample") {
  MetricsText m;
  m.gauge("wampd_connections", "Open connections by protocol.", 3, {{"protocol", "v1"}});
  m.gauge("wampd_connections", "Open connections by protocol.", 2, {{"protocol", "v2_json"}});
  m.counter("wampd_deliveries_total", "Events queued.", 12345678901.0);
  CHECK(m.text() ==
        "# HELP wampd_connections Open connections by protocol.\n"
        "# TYPE wampd_connections gauge\n"
        "wampd_connections{protocol=\"v1\"} 3\n"
        "wampd_connections{protocol=\"v2_json\"} 2\n"
        "# HELP wampd_deliveries_total Events queued.\n"
        "# TYPE wampd_deliveries_total counter\n"
        "wampd_deliveries_total 12345678901\n");
}

TEST_CASE("label values and help texts are escaped") {
  MetricsText m;
  m.counter("x_total", "a \\ b\nc", 1, {{"reason", "say \"no\"\\\n"}});
  CHECK(m.text() ==
        "# HELP x_total a \\\\ b\\nc\n"
        "# TYPE x_total counter\n"
        "x_total{reason=\"say \\\"no\\\"\\\\\\n\"} 1\n");
}

TEST_CASE("a histogram has cumulative buckets, +Inf, sum and count") {
  Histogram h({0.001, 0.01, 0.1});
  h.observe(0.0005);
  h.observe(0.001);  // on a bound: counted in it
  h.observe(0.05);
  h.observe(3);
  CHECK(h.count() == 4);
  MetricsText m;
  m.histogram("lat_seconds", "Latency.", h);
  CHECK(m.text() ==
        "# HELP lat_seconds Latency.\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{le=\"0.001\"} 2\n"
        "lat_seconds_bucket{le=\"0.01\"} 2\n"
        "lat_seconds_bucket{le=\"0.1\"} 3\n"
        "lat_seconds_bucket{le=\"+Inf\"} 4\n"
        "lat_seconds_sum 3.0515\n"
        "lat_seconds_count 4\n");
}

TEST_CASE("fractions keep their digits; whole numbers have none") {
  MetricsText m;
  m.gauge("g", "h", 0.25);
  m.gauge("g", "h", 1e-05, {{"k", "v"}});
  CHECK(m.text().find("g 0.25\n") != std::string::npos);
  CHECK(m.text().find("g{k=\"v\"} 1e-05\n") != std::string::npos);
}
