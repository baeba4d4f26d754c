#pragma once
/// `POST /infer` (docs/contracts/serve_api.md): the body is parsed, every
/// feature checked against the gate's manifest (missing, unknown,
/// non-numeric, non-finite: 400 naming it), rows are built in manifest order
/// and scored, and the answer is written.
///
/// Pure with respect to I/O: `handle_infer` takes the model set and the
/// worker index and fills a status and body, so tests and the fuzz target run
/// it without a socket.

#include <string>
#include <string_view>

#include "serve/api.h"
#include "serve/model_set.h"

namespace quant::serve {

class Metrics;

/// Answers one /infer body with `set` on worker `worker` (< the set's worker count).
/// `metrics` may be null.
Answer handle_infer(std::string_view body, const ModelSet& set, unsigned worker, Metrics* metrics);

}  // namespace quant::serve
