// The signer against the worked examples of AWS's S3 documentation
// ("Signature Calculations for the Authorization Header: Transferring Payload
// in a Single Chunk", examples GET Object, PUT Object, GET Bucket Lifecycle,
// Get Bucket (List Objects)): same inputs, same canonical request, signature.

#include "backup/sigv4.h"

#include <gtest/gtest.h>

#include "core/url.h"

namespace quant::backup {
namespace {

const Credentials kExampleKeys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4Test, GetObjectExample) {
  SignedRequest r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_sha256 = kEmptySha;
  const Signature s = sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectExampleEncodesThePath) {
  SignedRequest r;
  r.method = "PUT";
  r.path = "/" + percent_encode("test$file.text", true);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}};
  r.payload_sha256 = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  const Signature s = sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(r.path, "/test%24file.text");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, GetBucketLifecycleExampleHasAnEmptyQueryValue) {
  SignedRequest r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256 = kEmptySha;
  const Signature s = sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(s.canonical_request.find("\n/\nlifecycle=\n"), std::string::npos) << s.canonical_request;
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, ListObjectsExampleSortsTheQuery) {
  SignedRequest r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256 = kEmptySha;
  const Signature s = sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(s.canonical_request.find("\n/\nmax-keys=2&prefix=J\n"), std::string::npos) << s.canonical_request;
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, AnotherSecretGivesAnotherSignature) {
  SignedRequest r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"}};
  r.payload_sha256 = kEmptySha;
  Credentials other = kExampleKeys;
  other.secret_access_key += "x";
  EXPECT_NE(sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z").signature,
            sign_v4(r, other, "us-east-1", "s3", "20130524T000000Z").signature);
}

TEST(SigV4Test, UriEncodeKeepsUnreservedAndSlashOnlyInPaths) {
  EXPECT_EQ(percent_encode("a-b_c.d~e/f g+h=", true), "a-b_c.d~e/f%20g%2Bh%3D");
  EXPECT_EQ(percent_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(percent_encode("symbol=WIN", true), "symbol%3DWIN");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndFolded) {
  SignedRequest r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"X-Custom", "  a   b  "}, {"host", "h"}};
  r.payload_sha256 = kEmptySha;
  const Signature s = sign_v4(r, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(s.canonical_request.find("x-custom:a b\n"), std::string::npos) << s.canonical_request;
}

}  // namespace
}  // namespace quant::backup
