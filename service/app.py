"""Flask app factory: settings, metrics, model runtime, auth, error handling and the blueprints."""

from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from service.admission import admit_in_time
from service.api import health, openapi, predict, tfserving, v2
from service.api import metrics as metrics_api
from service.api.common import RUNTIME_KEY
from service.audit import audit_requests
from service.auth import Authenticator, require_bearer_token
from service.errors import register_error_handlers
from service.host import require_host
from service.logs import configure_logging
from service.metrics import Metrics
from service.observability import instrument
from service.runtime import ModelRuntime
from service.settings import Settings

MAX_FORM_PARTS = 8


class SegmentConverter(BaseConverter):
    """A path segment without ':' so `/<name>:predict` and `/<name>` never overlap."""

    regex = r"[^/:]+"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; the caller starts the model load (gunicorn's post_worker_init does)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level.value)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    # /predict takes one file part; a few more leave room for a client's extra fields.
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.url_map.converters["segment"] = SegmentConverter
    metrics = Metrics()
    app.extensions[metrics_api.METRICS_KEY] = metrics
    app.extensions[RUNTIME_KEY] = ModelRuntime(settings, metrics)
    instrument(app, metrics)
    require_host(app)
    if settings.metrics_port is not None:
        serve_metrics_apart(app, settings.metrics_port)
    admit_in_time(app, settings.request_deadline_ms / 1000)
    require_bearer_token(app, Authenticator.from_settings(settings))
    audit_requests(app, metrics)
    register_error_handlers(app)
    for blueprint in (health.bp, metrics_api.bp, openapi.bp, tfserving.bp, v2.bp, predict.bp):
        app.register_blueprint(blueprint)
    return app


def serve_metrics_apart(app: Flask, metrics_port: int) -> None:
    """/metrics only on `metrics_port`, and nothing else there: the Service exposes only PORT."""

    @app.before_request
    def split_ports() -> None:
        on_metrics_port = request.environ.get("SERVER_PORT") == str(metrics_port)
        if (request.blueprint == "metrics") != on_metrics_port:
            raise NotFound()


def runtime_of(app: Flask) -> ModelRuntime:
    """The model runtime an app built by create_app() owns."""
    runtime: ModelRuntime = app.extensions[RUNTIME_KEY]
    return runtime
