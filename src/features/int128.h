#pragma once
/// A 128-bit signed integer for exact cross-multiplications (GCC/Clang
/// builtin; `__extension__` keeps -Wpedantic quiet about it).

namespace quant::features {

__extension__ typedef __int128 Int128;  // NOLINT(modernize-use-using): `using` cannot take __extension__

}  // namespace quant::features
