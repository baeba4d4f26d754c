#include "core/sha256.h"

#include <gtest/gtest.h>

namespace quant {
namespace {

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShotAndResets) {
  const std::string text = "Welcome to Amazon S3.";
  Sha256 h;
  for (char c : text) h.update(std::string_view(&c, 1));
  EXPECT_EQ(h.hex_digest(), sha256_hex(text));
  EXPECT_EQ(h.hex_digest(), sha256_hex("")) << "hex_digest starts over";
  h.update("abc");
  h.reset();
  h.update("abc");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
}

TEST(Sha256Test, HmacRfc4231Case2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace quant
