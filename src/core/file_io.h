#pragma once
/// Durable file writes on POSIX, for every module that must not leave a torn
/// or lost file behind a crash or a power cut: the model registry, the lake's
/// partition writer, the lake backup and the Telegram bot's state.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace quant {

/// fsync(2) of a file, or of a directory (after a rename into it).
Expected<void> fsync_path(const std::filesystem::path& path, bool directory);

/// Writes all of `bytes` to `fd` (retrying short writes and EINTR); errors
/// name `path`.
Expected<void> write_fully(int fd, std::string_view bytes, const std::filesystem::path& path);

/// Writes `content` to a temporary name in `temp_dir` (same file system as
/// `final_path`; the name starts with '.'), fsyncs it, renames it over
/// `final_path` and fsyncs the directory: readers see the old file or the
/// whole new one, never a part. The temporary is removed on any failure.
/// `mode` is the new file's permission bits.
Expected<void> write_file_atomic(const std::filesystem::path& final_path, std::string_view content,
                                 const std::filesystem::path& temp_dir, unsigned mode = 0644);

}  // namespace quant
