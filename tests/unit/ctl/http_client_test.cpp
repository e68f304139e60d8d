#include "ctl/http_client.h"

#include <doctest/doctest.h>

#include <string>

using wampd::ctl::HttpReply;
using wampd::ctl::parseHttpResponse;

TEST_CASE("a complete response gives its status and body") {
  HttpReply reply;
  REQUIRE(parseHttpResponse(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", reply));
  CHECK(reply.status == 200);
  CHECK(reply.body == "{}");
}

TEST_CASE("the Content-Length header is matched whatever its case") {
  HttpReply reply;
  CHECK(parseHttpResponse("HTTP/1.1 401 Unauthorized\r\ncontent-LENGTH: 3\r\n\r\nabc", reply));
  CHECK(reply.status == 401);
}

TEST_CASE("a response cut short or malformed is refused") {
  HttpReply reply;
  CHECK_FALSE(parseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", reply));
  CHECK_FALSE(parseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", reply));
  CHECK_FALSE(parseHttpResponse("HTTP/1.0 200 OK\r\n\r\n", reply));
  CHECK_FALSE(parseHttpResponse("HTTP/1.1 2x0 OK\r\n\r\n", reply));
  CHECK_FALSE(parseHttpResponse("", reply));
}

TEST_CASE("without Content-Length the body is what came before the close") {
  HttpReply reply;
  REQUIRE(parseHttpResponse("HTTP/1.1 503 Service Unavailable\r\n\r\ndraining", reply));
  CHECK(reply.status == 503);
  CHECK(reply.body == "draining");
}
