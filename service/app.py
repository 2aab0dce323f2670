"""Flask app factory: settings, metrics, model runtime, auth, error handling and the blueprints."""

from flask import Flask
from werkzeug.routing import BaseConverter

from service.api import health, openapi, predict, tfserving, v2
from service.api import metrics as metrics_api
from service.api.common import RUNTIME_KEY
from service.auth import require_bearer_token
from service.errors import register_error_handlers
from service.logs import configure_logging
from service.metrics import Metrics
from service.observability import instrument
from service.runtime import ModelRuntime
from service.settings import Settings


class SegmentConverter(BaseConverter):
    """A path segment without ':' so `/<name>:predict` and `/<name>` never overlap."""

    regex = r"[^/:]+"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; the caller starts the model load (gunicorn's post_worker_init does)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level.value)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.url_map.converters["segment"] = SegmentConverter
    metrics = Metrics()
    app.extensions[metrics_api.METRICS_KEY] = metrics
    app.extensions[RUNTIME_KEY] = ModelRuntime(settings, metrics)
    instrument(app, metrics)
    token = settings.auth_token()
    if token is not None:
        require_bearer_token(app, token)
    register_error_handlers(app)
    for blueprint in (health.bp, metrics_api.bp, openapi.bp, tfserving.bp, v2.bp, predict.bp):
        app.register_blueprint(blueprint)
    return app


def runtime_of(app: Flask) -> ModelRuntime:
    """The model runtime an app built by create_app() owns."""
    runtime: ModelRuntime = app.extensions[RUNTIME_KEY]
    return runtime
