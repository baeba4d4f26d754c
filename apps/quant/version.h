#pragma once
// The one version string: `quant --version`, quant_build_info, backup manifests.

namespace quant::app {

inline constexpr const char* kQuantVersion = "0.1.0";

}  // namespace quant::app
