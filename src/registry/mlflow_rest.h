#pragma once
/// MLflow's REST API (https://mlflow.org/docs/latest/rest-api.html) behind
/// the Tracker and Registry interfaces, over libcurl (the only file of this
/// module that includes it is mlflow_rest.cpp).
///
/// Endpoints used, under `<uri>/api/2.0/`:
///
/// | what                       | endpoint                                                   |
/// |----------------------------|------------------------------------------------------------|
/// | experiment by name, create | GET mlflow/experiments/get-by-name, POST experiments/create |
/// | runs                       | POST mlflow/runs/create, runs/log-batch, runs/set-tag, runs/update; GET runs/get |
/// | artifact listing           | GET mlflow/artifacts/list                                  |
/// | artifacts (upload)         | PUT mlflow-artifacts/artifacts/<path>                      |
/// | registered models          | POST mlflow/registered-models/create, registered-models/set-tag; GET
/// registered-models/get, registered-models/search | | versions                   | POST mlflow/model-versions/create;
/// GET model-versions/get, model-versions/search | | aliases                    | POST / DELETE / GET
/// mlflow/registered-models/alias         |
///
/// Artifacts: only runs whose artifact_uri is `mlflow-artifacts:` (a server
/// started with `--serve-artifacts`, the default since MLflow 2.0) can take
/// files; each file is one PUT of its bytes (no multipart upload, so files
/// must fit in memory). Other stores (s3://, a server-local file: path) fail
/// with a message saying so. The authority of `mlflow-artifacts://host/...`
/// is ignored: uploads go to the tracking server.
///
/// Params and metrics are batched (runs/log-batch, at most 100 params and
/// 1000 entries per request, as MLflow limits them) and sent when a batch is
/// full, at flush() and at end(); their errors surface there. Tags go at
/// once (runs/set-tag). Metric NaN / ±inf are sent as protobuf-JSON's
/// "NaN" / "Infinity" / "-Infinity".
///
/// Errors carry MLflow's `{error_code, message}` and name the method and URL
/// (never the credentials). Auth: `Authorization: Bearer <token>` when
/// `options.token` is set, else HTTP basic with username/password when set.

#include <memory>

#include "registry/registry.h"
#include "registry/tracking.h"

namespace quant::registry {

/// A tracker on the MLflow server at `options.uri` (http or https). Does not
/// contact the server until used.
Expected<std::unique_ptr<Tracker>> open_rest_tracker(const TrackingOptions& options);

/// The model registry of the MLflow server at `options.uri`. Promotion
/// history lives in the registered-model tag `quant.alias_history.<alias>`
/// (see registry.h); promote/rollback over REST are not serialised between
/// clients (the server offers no lock).
Expected<std::unique_ptr<Registry>> open_rest_registry(const TrackingOptions& options);

}  // namespace quant::registry
