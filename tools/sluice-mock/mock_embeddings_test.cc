// Tests of sluice-mock's deterministic embeddings, their float and base64 bodies and the
// base64 codec (mock_embeddings.h). Single-threaded.
#include "mock_embeddings.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += double{x} * x;
  return std::sqrt(sum);
}

TEST(MockEmbeddingsTest, VectorsAreDeterministicNormalisedAndInputSpecific) {
  std::vector<float> a, b, c;
  EmbeddingVector(Fnv1a("hello"), 16, a);
  EmbeddingVector(Fnv1a("hello"), 16, b);
  EmbeddingVector(Fnv1a("hellp"), 16, c);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NEAR(Norm(a), 1.0, 1e-5);
  EmbeddingVector(Fnv1a("hello"), 1536, a);
  EXPECT_EQ(a.size(), 1536u);
  EXPECT_NEAR(Norm(a), 1.0, 1e-5);
}

TEST(MockEmbeddingsTest, Fnv1aKnownValues) {
  EXPECT_EQ(Fnv1a(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a("foobar"), 0x85944171f73967e8ULL);
}

TEST(MockEmbeddingsTest, Base64MatchesRfc4648AndRoundTrips) {
  struct Case {
    const char* plain;
    const char* encoded;
  };
  for (Case c : {Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
                 Case{"foob", "Zm9vYg=="}, Case{"fooba", "Zm9vYmE="}, Case{"foobar", "Zm9vYmFy"}}) {
    std::string out;
    AppendBase64(out, reinterpret_cast<const unsigned char*>(c.plain), std::strlen(c.plain));
    EXPECT_EQ(out, c.encoded);
    std::string back;
    ASSERT_TRUE(DecodeBase64(out, back));
    EXPECT_EQ(back, c.plain);
  }
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  std::string encoded, decoded;
  AppendBase64(encoded, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  ASSERT_TRUE(DecodeBase64(encoded, decoded));
  EXPECT_EQ(decoded, bytes);
  for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "=Zm9"}) {
    EXPECT_FALSE(DecodeBase64(bad, decoded)) << bad;
  }
}

// The base64 body decodes to exactly the float32 values the float body prints.
TEST(MockEmbeddingsTest, Base64AndFloatBodiesCarryTheSameVectors) {
  auto input = boost::json::parse(R"(["first input","second",[1,2,3]])");
  std::string message;
  // Mixed strings and token arrays are rejected; use strings only here.
  EXPECT_EQ(CountEmbeddingInputs(&input, message), 0u);
  input = boost::json::parse(R"(["first input","second"])");
  ASSERT_EQ(CountEmbeddingInputs(&input, message), 2u);

  std::string float_body, base64_body;
  AppendEmbeddingsBody(float_body, input, "m", 8, EmbeddingEncoding::kFloat, 5);
  AppendEmbeddingsBody(base64_body, input, "m", 8, EmbeddingEncoding::kBase64, 5);
  auto as_float = boost::json::parse(float_body).as_object();
  auto as_base64 = boost::json::parse(base64_body).as_object();
  EXPECT_EQ(as_float.at("object"), "list");
  EXPECT_EQ(as_float.at("model"), "m");
  EXPECT_EQ(as_float.at("usage").at("prompt_tokens"), 5);
  EXPECT_EQ(as_float.at("usage").at("total_tokens"), 5);
  const auto& floats = as_float.at("data").as_array();
  const auto& encoded = as_base64.at("data").as_array();
  ASSERT_EQ(floats.size(), 2u);
  ASSERT_EQ(encoded.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(floats[i].at("object"), "embedding");
    EXPECT_EQ(floats[i].at("index"), static_cast<int64_t>(i));
    EXPECT_EQ(encoded[i].at("index"), static_cast<int64_t>(i));
    const auto& numbers = floats[i].at("embedding").as_array();
    std::string bytes;
    ASSERT_TRUE(DecodeBase64(encoded[i].at("embedding").as_string(), bytes));
    ASSERT_EQ(bytes.size(), numbers.size() * 4);
    for (size_t k = 0; k < numbers.size(); ++k) {
      float from_bytes;
      std::memcpy(&from_bytes, bytes.data() + 4 * k, 4);  // little-endian float32
      EXPECT_EQ(from_bytes, static_cast<float>(numbers[k].to_number<double>())) << i << "," << k;
    }
  }
}

TEST(MockEmbeddingsTest, CountsEveryInputShape) {
  struct Case {
    const char* json;
    size_t count;
  };
  for (Case c : {Case{R"("text")", 1}, Case{R"(["a","b","c"])", 3}, Case{R"([1,2,3])", 1},
                 Case{R"([[1,2],[3]])", 2}, Case{R"([])", 0}, Case{R"(5)", 0}, Case{R"([[]])", 0},
                 Case{R"([{"a":1}])", 0}}) {
    auto input = boost::json::parse(c.json);
    std::string message;
    EXPECT_EQ(CountEmbeddingInputs(&input, message), c.count) << c.json;
    if (c.count == 0) {
      EXPECT_FALSE(message.empty());
    }
  }
  std::string message;
  EXPECT_EQ(CountEmbeddingInputs(nullptr, message), 0u);
}

TEST(MockEmbeddingsTest, TokenInputsHashDifferentlyFromText) {
  auto ids = boost::json::parse("[49,50]");
  auto text = boost::json::parse(R"("12")");
  std::string a, b;
  AppendEmbeddingsBody(a, ids, "m", 4, EmbeddingEncoding::kFloat, 2);
  AppendEmbeddingsBody(b, text, "m", 4, EmbeddingEncoding::kFloat, 1);
  EXPECT_NE(boost::json::parse(a).at("data").at(0).at("embedding"),
            boost::json::parse(b).at("data").at(0).at("embedding"));
}

}  // namespace
}  // namespace sluice
